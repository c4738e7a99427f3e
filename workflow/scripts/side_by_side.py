import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.magnify import side_by_side

side_by_side(
    frames=snakemake.input.frames,
    magnified=list(snakemake.input.magnified),
    meta=snakemake.input.meta,
    labels=snakemake.params.labels,
    video=snakemake.output.video,
    slices=snakemake.output.slices,
    crf=snakemake.params.crf,
)
