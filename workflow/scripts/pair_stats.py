import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import pair_stats

pair_stats(
    index=snakemake.input.index,
    candidates=snakemake.input.candidates,
    settings=snakemake.params.settings,
    subset=snakemake.wildcards.subset,
    shard=int(snakemake.wildcards.shard),
    out=snakemake.output[0],
    device=snakemake.params.device,
    threads=snakemake.threads,
)
