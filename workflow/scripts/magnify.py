import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.pipeline import magnify_clip

torch.set_num_threads(snakemake.threads)
settings = dict(snakemake.params.settings)
if snakemake.input.checkpoint:  # learned methods
    settings["checkpoint"] = snakemake.input.checkpoint
magnify_clip(
    snakemake.input.frames,
    snakemake.input.meta,
    snakemake.wildcards.method,
    settings,
    float(snakemake.wildcards.alpha),
    snakemake.output.frames,
    device=snakemake.params.device,
    video=snakemake.output.video,
    crf=snakemake.params.crf,
)
