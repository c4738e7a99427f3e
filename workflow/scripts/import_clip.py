import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.clips import import_clip

import_clip(
    source=snakemake.input[0],
    frames=snakemake.output.frames,
    meta=snakemake.output.meta,
    fps=snakemake.params.fps,
    max_frames=snakemake.params.max_frames,
    scale=snakemake.params.scale,
)
