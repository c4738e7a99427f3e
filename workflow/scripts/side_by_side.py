import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import side_by_side_video

side_by_side_video(
    [snakemake.input.frames, *snakemake.input.magnified],
    snakemake.params.labels,
    snakemake.input.meta,
    snakemake.output[0],
    crf=snakemake.params.crf,
)
