import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.synthetic import synth_preview

synth_preview(manifest=snakemake.input[0], out=snakemake.output[0], count=snakemake.params.samples)
