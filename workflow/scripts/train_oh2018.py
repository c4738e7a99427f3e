import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.train.oh2018 import train_oh2018

torch.set_num_threads(snakemake.threads)
train_oh2018(
    snakemake.input.config,
    snakemake.input.data,
    snakemake.params.out_dir,
    device=snakemake.params.device,
    steps=snakemake.params.steps,
    progress=True,
)
