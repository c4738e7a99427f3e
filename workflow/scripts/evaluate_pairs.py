import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.evaluate import evaluate_pairs

evaluate_pairs(
    benchmark=snakemake.wildcards.pairbench,
    method=snakemake.wildcards.method,
    flows=snakemake.params.flows,
    alphas=snakemake.params.alphas,
    pairs=snakemake.input.pairs,
    magnified=list(snakemake.input.magnified),
    out_csvs=list(snakemake.output),
    crop=snakemake.params.pair_benchmark["crop"],
    limit=snakemake.params.pair_benchmark["limit"],
    method_settings=dict(snakemake.params.method_settings),
    device=snakemake.params.device,
    checkpoint=snakemake.input.checkpoint,
    weights_manifest=snakemake.params.weights_manifest,
    weights_dir=snakemake.params.weights_dir,
    protocol=snakemake.params.protocol,
    threads=snakemake.threads,
)
