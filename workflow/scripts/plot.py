import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import make_plot

make_plot(snakemake.input[0], snakemake.wildcards.group, snakemake.wildcards.metric, snakemake.output[0])
