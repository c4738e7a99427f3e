import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.synthetic import synth_manifest

synth_manifest(
    settings=snakemake.params.settings,
    name=snakemake.wildcards.synthset,
    index=snakemake.input.index,
    shards=list(snakemake.input.shards),
    out=snakemake.output[0],
)
