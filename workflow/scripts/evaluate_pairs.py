import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.io.download import sha256sum
from motionmag.pipeline import evaluate_pair_cell

torch.set_num_threads(snakemake.threads)
bench = snakemake.params.pair_benchmark
for flow, out_csv in zip(snakemake.params.flows, snakemake.output):
    evaluate_pair_cell(
        benchmark=snakemake.wildcards.pairbench,
        method=snakemake.wildcards.method,
        flow=flow,
        alpha=float(snakemake.wildcards.alpha),
        pairs_path=snakemake.input.pairs,
        magnified_path=snakemake.input.magnified,
        out_csv=out_csv,
        crop=bench["crop"],
        limit=bench["limit"],
        method_settings=dict(snakemake.params.method_settings),
        device=snakemake.params.device,
        checkpoint_sha256=sha256sum(snakemake.input.checkpoint) if snakemake.input.checkpoint else "",
        weights_manifest=snakemake.params.weights_manifest,
        weights_dir=snakemake.params.weights_dir,
        protocol=snakemake.params.protocol,
    )
