import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.data.archives import released_pairs
from motionmag.data.pairs import write_pair_set

count = write_pair_set(snakemake.output[0], released_pairs(snakemake.input[0]))
print(f"{count} pairs -> {snakemake.output[0]}", file=sys.stderr)
