"""Rule import_axial_eval."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.synthetic import import_axial_eval

import_axial_eval(
    archive=snakemake.input[0],
    sweep=snakemake.params.sweep,
    samples_per_mode=snakemake.params.samples_per_mode,
    shard=snakemake.output.shard,
    manifest=snakemake.output.manifest,
)
