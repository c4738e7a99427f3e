import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.pipeline import magnify_pair_set

torch.set_num_threads(snakemake.threads)
settings = dict(snakemake.params.settings)
if snakemake.input.checkpoint:  # learned methods
    settings["checkpoint"] = snakemake.input.checkpoint
bench = snakemake.params.pair_benchmark
count = magnify_pair_set(
    snakemake.input.pairs,
    snakemake.wildcards.method,
    settings,
    float(snakemake.wildcards.alpha),
    snakemake.output[0],
    crop=bench["crop"],
    limit=bench["limit"],
    device=snakemake.params.device,
    protocol=snakemake.params.protocol,
)
print(f"{count} pairs magnified -> {snakemake.output[0]}", file=sys.stderr)
