import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.synthetic import synth_index

synth_index(source=snakemake.params.source, out=snakemake.output[0])
