import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import pair_candidates

pair_candidates(index=snakemake.input[0], spacing=snakemake.params.spacing, out=snakemake.output[0])
