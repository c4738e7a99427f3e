import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.data.synthetic_demo import write_demo_set

count = write_demo_set(snakemake.output[0], snakemake.params.settings, snakemake.params.samples)
print(f"{count} samples -> {snakemake.output[0]}", file=sys.stderr)
