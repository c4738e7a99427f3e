import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import released_pairs

released_pairs(archive=snakemake.input[0], out=snakemake.output[0])
