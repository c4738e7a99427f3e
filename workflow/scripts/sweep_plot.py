import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import make_sweep_plot

make_sweep_plot(list(snakemake.input), snakemake.output[0])
