import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import xt_slice_image

xt_slice_image(
    [snakemake.input.frames, *snakemake.input.magnified],
    snakemake.params.labels,
    snakemake.input.meta,
    snakemake.output[0],
)
