import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.magnify import magnify

magnify(
    frames=snakemake.input.frames,
    meta=snakemake.input.meta,
    method=snakemake.wildcards.method,
    settings=dict(snakemake.params.settings),
    alpha=float(snakemake.wildcards.alpha),
    out_frames=snakemake.output.frames,
    video=snakemake.output.video,
    crf=snakemake.params.crf,
    device=snakemake.params.device,
    checkpoint=snakemake.input.checkpoint,
    threads=snakemake.threads,
)
