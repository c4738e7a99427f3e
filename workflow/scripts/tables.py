import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.pipeline import make_tables

make_tables(
    list(snakemake.input),
    snakemake.params.alphas,
    snakemake.params.groups,
    snakemake.output.cells,
    Path(snakemake.output.cells).parent,
)
