import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.evaluate import evaluate_sweep

evaluate_sweep(
    sweep=snakemake.wildcards.sweep,
    method=snakemake.wildcards.method,
    settings=dict(snakemake.params.settings),
    samples=snakemake.input.samples,
    out_csv=snakemake.output[0],
    border=snakemake.params.border,
    device=snakemake.params.device,
    checkpoint=snakemake.input.checkpoint,
    threads=snakemake.threads,
    protocol=snakemake.params.protocol,
)
