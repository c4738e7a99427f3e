import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import demo_pairs

demo_pairs(clips=dict(snakemake.input.items()), spacings=snakemake.params.spacings, out=snakemake.output[0])
