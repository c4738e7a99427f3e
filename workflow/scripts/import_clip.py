import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import import_clip

import_clip(
    snakemake.input[0],
    snakemake.output.frames,
    snakemake.output.meta,
    fps=snakemake.params.fps,
    max_frames=snakemake.params.max_frames,
    scale=snakemake.params.scale,
)
