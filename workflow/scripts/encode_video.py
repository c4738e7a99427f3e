import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import encode_video

encode_video(snakemake.input.frames, snakemake.input.meta, snakemake.output[0], crf=snakemake.params.crf)
