import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

import torch

from motionmag.train.flowmag import train_flowmag

torch.set_num_threads(snakemake.threads)
train_flowmag(
    snakemake.input.config,
    snakemake.input.pairs,
    snakemake.params.out_dir,
    device=snakemake.params.device,
    steps=snakemake.params.steps,
    progress=True,
    weights_manifest=snakemake.params.weights_manifest,
    weights_dir=Path(snakemake.input.weights).parent if snakemake.input.weights else None,
)
