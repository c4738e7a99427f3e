import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.magnify import magnify

magnify(
    frames=snakemake.input.frames,
    meta=snakemake.input.meta,
    method=snakemake.wildcards.method,
    settings=dict(snakemake.params.settings),
    alphas=snakemake.params.alphas,
    out_frames=list(snakemake.output.frames),
    videos=list(snakemake.output.videos),
    crf=snakemake.params.crf,
    device=snakemake.params.device,
    checkpoint=snakemake.input.checkpoint,
    threads=snakemake.threads,
)
