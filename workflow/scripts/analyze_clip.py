"""Rule analyze_clip."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.analysis import analyze_clip

analyze_clip(
    frames=snakemake.input.frames,
    meta=snakemake.input.meta,
    out_dir=snakemake.params.out_dir,
    settings=snakemake.params.settings,
    video=snakemake.input.video,
)
