import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.evaluate import evaluate_sweep

evaluate_sweep(
    sweeps=snakemake.params.sweeps,
    method=snakemake.wildcards.method,
    settings=dict(snakemake.params.settings),
    samples=list(snakemake.input.samples),
    out_csvs=list(snakemake.output),
    border=snakemake.params.border,
    device=snakemake.params.device,
    checkpoint=snakemake.input.checkpoint,
    threads=snakemake.threads,
    protocols=snakemake.params.protocols,
)
