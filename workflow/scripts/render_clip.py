"""Render a demo clip, or (rule render_truth) its ground truth magnified by the alpha wildcard."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.pipeline import render_clip

render_clip(
    snakemake.params.settings,
    snakemake.output.frames,
    snakemake.output.meta,
    alpha=float(snakemake.wildcards.get("alpha", 1.0)),
)
