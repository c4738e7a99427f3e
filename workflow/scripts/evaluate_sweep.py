import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.io.download import sha256sum
from motionmag.pipeline import evaluate_sweep_cell

torch.set_num_threads(snakemake.threads)
settings = dict(snakemake.params.settings)
if snakemake.input.checkpoint:  # learned methods
    settings["checkpoint"] = snakemake.input.checkpoint
evaluate_sweep_cell(
    snakemake.wildcards.sweep,
    snakemake.wildcards.method,
    settings,
    snakemake.input.samples,
    snakemake.output[0],
    border=snakemake.params.border,
    device=snakemake.params.device,
    checkpoint_sha256=sha256sum(snakemake.input.checkpoint) if snakemake.input.checkpoint else "",
)
