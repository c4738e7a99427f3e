import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import pair_testset

pair_testset(
    stats=list(snakemake.input.stats),
    subsets=snakemake.params.subsets,
    indexes=snakemake.params.indexes,
    settings=snakemake.params.settings,
    out_pairs=snakemake.output.pairs,
    out_table=snakemake.output.table,
)
