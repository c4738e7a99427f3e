import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.pipeline import make_sweep_table

make_sweep_table(list(snakemake.input), Path(snakemake.output[0]).with_suffix(""))
