import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.evaluate import evaluate_cell

evaluate_cell(
    clip=snakemake.wildcards.clip,
    method=snakemake.wildcards.method,
    flows=snakemake.params.flows,
    alphas=snakemake.params.alphas,
    frames=snakemake.input.frames,
    meta=snakemake.input.meta,
    magnified=list(snakemake.input.magnified),
    out_csvs=list(snakemake.output),
    truth=list(snakemake.input.truth),
    method_settings=dict(snakemake.params.method_settings),
    region_margin=snakemake.params.region_margin,
    device=snakemake.params.device,
    checkpoint=snakemake.input.checkpoint,
    weights_manifest=snakemake.params.weights_manifest,
    weights_dir=snakemake.params.weights_dir,
    threads=snakemake.threads,
)
