import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.synthetic import synth_shard

synth_shard(
    settings=snakemake.params.settings,
    index=snakemake.input.index,
    shard=int(snakemake.wildcards.shard),
    out=snakemake.output[0],
    threads=snakemake.threads,
)
