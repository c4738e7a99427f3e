import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.pipeline import magnify_clip

torch.set_num_threads(snakemake.threads)
magnify_clip(
    snakemake.input.frames,
    snakemake.input.meta,
    snakemake.wildcards.method,
    dict(snakemake.params.settings),
    float(snakemake.wildcards.alpha),
    snakemake.output[0],
    device=snakemake.params.device,
)
