import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.magnify import magnify_pairs

magnify_pairs(
    pairs=snakemake.input.pairs,
    method=snakemake.wildcards.method,
    settings=dict(snakemake.params.settings),
    alphas=snakemake.params.alphas,
    out=list(snakemake.output),
    crop=snakemake.params.pair_benchmark["crop"],
    limit=snakemake.params.pair_benchmark["limit"],
    device=snakemake.params.device,
    protocol=snakemake.params.protocol,
    checkpoint=snakemake.input.checkpoint,
    threads=snakemake.threads,
)
