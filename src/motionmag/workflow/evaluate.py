"""Stage ``evaluate``: one small result file per cell (benchmark x method x evaluation flow model
x alpha), with its provenance (settings hash, code version, the checkpoint's sha256).

Rules: ``evaluate_cell`` (a magnified clip under every evaluation flow model), ``evaluate_pairs``
(a magnified pair benchmark, FlowMag's test protocol), ``evaluate_sweep`` (one method on one of
Oh et al.'s synthetic sweeps).
"""

from __future__ import annotations

import math
from pathlib import Path

from motionmag.workflow.common import log, read_meta, set_threads, with_checkpoint, write_csv
from motionmag.workflow.provenance import checkpoint_sha256, provenance


def _flow_model(flow: str, device: str, weights_manifest=None, weights_dir=None):
    """An evaluation flow model, its weights (if any) from the manifest, verified before loading."""
    from motionmag.flow import flow_spec, get_flow_model
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore(weights_manifest, weights_dir) if flow_spec(flow).needs_weights else None
    return get_flow_model(flow, device=device, preset="eval", store=store)


def _check_outputs(flows: list[str], out_csvs: list) -> None:
    if len(flows) != len(out_csvs):
        raise ValueError(f"{len(flows)} evaluation flow models but {len(out_csvs)} result files")


def evaluate_cell(clip: str, method: str, flows: list[str], alpha: float, frames: str | Path, meta: str | Path,
                  magnified: str | Path, out_csvs: list[str | Path], truth: str | Path | None = None,
                  method_settings: dict | None = None, region_margin: int = 8, device: str = "cpu",
                  checkpoint: str | Path | None = None, weights_manifest: str | Path | None = None,
                  weights_dir: str | Path | None = None, threads: int | None = None) -> list[dict]:
    """The result cells of one magnified clip: its metrics under each flow model in ``flows``, one
    CSV each (``out_csvs``, in the same order). ``truth``: the ground-truth magnified frames of a
    rendered clip; ``checkpoint``: a learned method's model (its sha256 goes into the cells)."""
    import torch

    from motionmag.synth.clips import DemoClip, DemoRenderer
    from motionmag.evaluate import evaluate_clip
    from motionmag.io import open_video

    _check_outputs(flows, out_csvs)
    set_threads(threads)
    info = read_meta(meta)
    regions = None
    if info.get("render"):
        renderer = DemoRenderer(DemoClip.from_dict(info["render"]))
        obj_region, bg_region = renderer.regions(margin=region_margin)
        obj, bg = renderer.displacements()
        regions = {"object": (obj_region, obj), "background": (bg_region, bg)}
    digest = checkpoint_sha256(checkpoint)
    inputs = open_video(frames, fps=info["fps"])
    outputs = open_video(magnified, fps=info["fps"])
    truths = open_video(truth, fps=info["fps"]) if truth else None
    flow_models = {flow: _flow_model(flow, device, weights_manifest, weights_dir) for flow in flows}
    with torch.inference_mode():
        results = evaluate_clip(inputs, outputs, alpha, flow_models, truths=truths, regions=regions, device=device)
    rows = []
    for flow, out_csv in zip(flows, out_csvs):
        row = dict(benchmark=clip, kind="clip", method=method, flow=flow, alpha=alpha, **results[flow])
        for name in ("object", "background"):  # the same columns for every cell
            row.setdefault(f"amplification_{name}", math.nan)
            row.setdefault(f"residual_px_{name}", math.nan)
        row.update(provenance(digest, method, method_settings, flow, alpha, info.get("render")))
        write_csv([row], out_csv)
        log(f"{clip} {method} x{alpha:g} under {flow} -> {out_csv}")
        rows.append(row)
    return rows


def evaluate_pairs(benchmark: str, method: str, flows: list[str], alpha: float, pairs: str | Path,
                   magnified: str | Path, out_csvs: list[str | Path], crop: int | None = None,
                   limit: int | None = None, method_settings: dict | None = None, device: str = "cpu",
                   checkpoint: str | Path | None = None, weights_manifest: str | Path | None = None,
                   weights_dir: str | Path | None = None, protocol: str = "corrected",
                   threads: int | None = None) -> list[dict]:
    """The result cells of a magnified pair benchmark (FlowMag's test protocol), one per flow
    model in ``flows`` (``out_csvs`` in the same order); ``protocol`` ``paper`` scores as FlowMag's
    eval.py does (motionmag.evaluate.pairs)."""
    import torch

    from motionmag.data.h5 import fingerprint
    from motionmag.data.pairs import PairSet
    from motionmag.evaluate.pairs import check_protocol
    from motionmag.evaluate.pairs import evaluate_pairs as score_pairs

    check_protocol(protocol)
    _check_outputs(flows, out_csvs)
    set_threads(threads)
    digest = checkpoint_sha256(checkpoint)
    rows = []
    for flow, out_csv in zip(flows, out_csvs):
        flow_model = _flow_model(flow, device, weights_manifest, weights_dir)
        with torch.inference_mode():
            metrics = score_pairs(PairSet(pairs), PairSet(magnified), alpha, flow_model, crop, limit,
                                  device=device, progress=True, protocol=protocol)
        row = dict(benchmark=benchmark, kind="pairs", method=method, flow=flow, alpha=alpha, **metrics)
        row.update(provenance(digest, method, method_settings, flow, alpha, crop, limit, protocol),
                   protocol=protocol, data_fingerprint=fingerprint(pairs))
        write_csv([row], out_csv)
        log(f"{benchmark} {method} x{alpha:g} under {flow} ({protocol} protocol) -> {out_csv}")
        rows.append(row)
    return rows


def evaluate_sweep(sweep: str, method: str, settings: dict, samples: str | Path, out_csv: str | Path,
                   border: int = 8, device: str = "cpu", checkpoint: str | Path | None = None,
                   threads: int | None = None, protocol: str = "oh"):
    """One method on one synthetic sweep: a row per level (SSIM, PSNR against the ground truth).
    ``samples``: the set's manifest; ``checkpoint``: a learned method's model; ``protocol``: oh
    (Oh et al.'s scoring) or axial (Axial-MM's generic_eval.py: 5 px black pad, float output)."""
    from motionmag.synth.samples import SyntheticSet
    from motionmag.evaluate.sweep import evaluate_sweep as score_sweep
    from motionmag.methods import get_magnifier

    set_threads(threads)
    settings = with_checkpoint(settings, checkpoint)
    dataset = SyntheticSet(samples)
    magnifier = get_magnifier(method, device=device, **settings)
    table = score_sweep(dataset, magnifier, border, device=device, progress=True, protocol=protocol)
    cell = provenance(checkpoint_sha256(checkpoint), method, {k: v for k, v in settings.items() if k != "checkpoint"},
                      border, protocol)
    table = table.assign(benchmark=sweep, method=method, protocol=protocol, **cell, data_fingerprint=dataset.fingerprint)
    write_csv(table.to_dict("records"), out_csv)
    log(f"{sweep} {method}: {len(table)} levels -> {out_csv}")
    return table
