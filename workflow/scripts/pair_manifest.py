import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import pair_manifest

pair_manifest(
    pairs=list(snakemake.input.pairs),
    kept=list(snakemake.input.kept),
    subsets=snakemake.params.subsets,
    settings=snakemake.params.settings,
    manifest=snakemake.output.manifest,
    table=snakemake.output.table,
)
