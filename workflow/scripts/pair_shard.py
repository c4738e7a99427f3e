import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import pair_shard

pair_shard(
    index=snakemake.input.index,
    candidates=snakemake.input.candidates,
    settings=snakemake.params.settings,
    subset=snakemake.wildcards.subset,
    shard=int(snakemake.wildcards.shard),
    out_pairs=snakemake.output.pairs,
    out_kept=snakemake.output.kept,
    stats=snakemake.input.get("stats"),
    included=snakemake.input.get("included"),
)
