import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

import torch

from motionmag.io.download import sha256sum
from motionmag.pipeline import evaluate_cell

torch.set_num_threads(snakemake.threads)
evaluate_cell(
    clip=snakemake.wildcards.clip,
    method=snakemake.wildcards.method,
    flow=snakemake.wildcards.flow,
    alpha=float(snakemake.wildcards.alpha),
    clip_dir=snakemake.input.frames,
    meta_path=snakemake.input.meta,
    magnified_dir=snakemake.input.magnified,
    truth_dir=snakemake.input.truth or None,
    out_csv=snakemake.output[0],
    method_settings=dict(snakemake.params.method_settings),
    region_margin=snakemake.params.region_margin,
    device=snakemake.params.device,
    weights_manifest=snakemake.params.weights_manifest,
    weights_dir=Path(snakemake.input.weights).parent if snakemake.input.weights else None,
    checkpoint_sha256=sha256sum(snakemake.input.checkpoint) if snakemake.input.checkpoint else "",
)
