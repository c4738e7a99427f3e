import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.io.download import sha256sum
from motionmag.pipeline import evaluate_cell

torch.set_num_threads(snakemake.threads)
for flow, out_csv in zip(snakemake.params.flows, snakemake.output):
    evaluate_cell(
        clip=snakemake.wildcards.clip,
        method=snakemake.wildcards.method,
        flow=flow,
        alpha=float(snakemake.wildcards.alpha),
        clip_dir=snakemake.input.frames,
        meta_path=snakemake.input.meta,
        magnified_dir=snakemake.input.magnified,
        truth_dir=snakemake.input.truth or None,
        out_csv=out_csv,
        method_settings=dict(snakemake.params.method_settings),
        region_margin=snakemake.params.region_margin,
        device=snakemake.params.device,
        weights_manifest=snakemake.params.weights_manifest,
        weights_dir=snakemake.params.weights_dir,
        checkpoint_sha256=sha256sum(snakemake.input.checkpoint) if snakemake.input.checkpoint else "",
    )
