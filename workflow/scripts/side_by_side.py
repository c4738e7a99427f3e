import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import side_by_side_video, xt_slice_image

frame_dirs = [snakemake.input.frames, *snakemake.input.magnified]
side_by_side_video(frame_dirs, snakemake.params.labels, snakemake.input.meta, snakemake.output.video,
                   crf=snakemake.params.crf)
xt_slice_image(frame_dirs, snakemake.params.labels, snakemake.input.meta, snakemake.output.slices)
