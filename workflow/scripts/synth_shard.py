import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.synth.generate import write_shard

count = write_shard(
    snakemake.output[0],
    snakemake.params.settings,
    snakemake.input.index,
    int(snakemake.wildcards.shard),
    progress=True,
    threads=snakemake.threads,
)
print(f"{count} samples -> {snakemake.output[0]}", file=sys.stderr)
