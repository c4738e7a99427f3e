import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.data.pairs import demo_pairs, write_pair_set

count = write_pair_set(
    snakemake.output[0],
    demo_pairs(dict(snakemake.input.items()), snakemake.params.spacings),
)
print(f"{count} pairs -> {snakemake.output[0]}", file=sys.stderr)
