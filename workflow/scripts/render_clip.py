"""Rules render_clip and render_truth (its ground truth magnified by the alpha wildcard)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.clips import render_clip

render_clip(
    settings=snakemake.params.settings,
    frames=snakemake.output.frames,
    meta=snakemake.output.meta,
    alpha=float(snakemake.wildcards.get("alpha", 1.0)),
)
