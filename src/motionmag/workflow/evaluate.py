"""Stage ``evaluate``: one small result file per cell (benchmark x method x evaluation flow model
x alpha), with its provenance (settings hash, code version, the checkpoint's sha256).

Rules: ``evaluate_cell`` (a method's magnifications of a clip, every alpha, under every evaluation
flow model), ``evaluate_pairs`` (the same for a pair benchmark, FlowMag's test protocol),
``evaluate_sweep`` (one method on every one of Oh et al.'s synthetic sweeps).
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


def _cell_files(flows: list[str], alphas: list[float], out_csvs: list) -> dict[tuple[float, str], str | Path]:
    """(alpha, flow) -> result file, from ``out_csvs`` listed alpha by alpha, each in ``flows``' order."""
    if len(out_csvs) != len(alphas) * len(flows):
        raise ValueError(f"{len(alphas)} alphas x {len(flows)} evaluation flow models but {len(out_csvs)} result files")
    return dict(zip(((alpha, flow) for alpha in alphas for flow in flows), out_csvs))


def evaluate_cell(clip: str, method: str, flows: list[str], alphas: list[float], frames: str | Path,
                  meta: str | Path, magnified: list[str | Path], out_csvs: list[str | Path],
                  truth: list[str | Path] | None = None, method_settings: dict | None = None,
                  region_margin: int = 8, device: str = "cpu", checkpoint: str | Path | None = None,
                  weights_manifest: str | Path | None = None, weights_dir: str | Path | None = None,
                  threads: int | None = None) -> list[dict]:
    """The result cells of one clip magnified by one method at every alpha (``magnified``: one
    frame folder per alpha): its metrics under each flow model in ``flows``, one CSV per alpha and
    flow model (``out_csvs``, alpha by alpha, each in ``flows``' order). The input clip's motion is
    estimated once for every alpha (motionmag.evaluate.evaluate_alphas). ``truth``: the
    ground-truth magnified frames of a rendered clip, one folder per alpha; ``checkpoint``: a
    learned method's model (its sha256 goes into the cells)."""
    import torch

    from motionmag.evaluate import evaluate_alphas
    from motionmag.io import open_video

    files = _cell_files(flows, alphas, out_csvs)
    if len(magnified) != len(alphas) or (truth and len(truth) != len(alphas)):
        raise ValueError(f"{len(alphas)} alphas but {len(magnified)} magnified clips and {len(truth or [])} truths")
    set_threads(threads)
    info = read_meta(meta)
    regions = _regions(info, region_margin) if info.get("render") else None
    digest = checkpoint_sha256(checkpoint)
    inputs = open_video(frames, fps=info["fps"])
    outputs = {alpha: open_video(folder, fps=info["fps"]) for alpha, folder in zip(alphas, magnified)}
    truths = {alpha: open_video(folder, fps=info["fps"]) for alpha, folder in zip(alphas, truth)} if truth else None
    flow_models = {flow: _flow_model(flow, device, weights_manifest, weights_dir) for flow in flows}
    with torch.inference_mode():
        results = evaluate_alphas(inputs, outputs, flow_models, truths=truths, regions=regions, device=device)
    rows = []
    for (alpha, flow), out_csv in files.items():
        row = dict(benchmark=clip, kind="clip", method=method, flow=flow, alpha=alpha, **results[alpha][flow])
        for name in ("object", "background"):  # the same columns for every cell
            row.setdefault(f"amplification_{name}", math.nan)
            row.setdefault(f"residual_px_{name}", math.nan)
        row.update(provenance(digest, method, method_settings, flow, alpha, info.get("render")))
        write_csv([row], out_csv)
        log(f"{clip} {method} x{alpha:g} under {flow} -> {out_csv}")
        rows.append(row)
    return rows


def _regions(info: dict, margin: int) -> dict[str, tuple]:
    """A rendered clip's object and background regions with their true displacements."""
    from motionmag.synth.clips import DemoClip, DemoRenderer

    renderer = DemoRenderer(DemoClip.from_dict(info["render"]))
    obj_region, bg_region = renderer.regions(margin=margin)
    obj, bg = renderer.displacements()
    return {"object": (obj_region, obj), "background": (bg_region, bg)}


def evaluate_pairs(benchmark: str, method: str, flows: list[str], alphas: list[float], pairs: str | Path,
                   magnified: list[str | Path], out_csvs: list[str | Path], crop: int | None = None,
                   limit: int | None = None, method_settings: dict | None = None, device: str = "cpu",
                   checkpoint: str | Path | None = None, weights_manifest: str | Path | None = None,
                   weights_dir: str | Path | None = None, protocol: str = "corrected",
                   threads: int | None = None) -> list[dict]:
    """The result cells of a pair benchmark magnified by one method at every alpha (FlowMag's test
    protocol; ``magnified``: one pair file per alpha), one per alpha and flow model (``out_csvs``,
    alpha by alpha, each in ``flows``' order); ``protocol`` ``paper`` scores as FlowMag's eval.py
    does (motionmag.evaluate.pairs)."""
    import torch

    from motionmag.data.h5 import fingerprint
    from motionmag.data.pairs import PairSet
    from motionmag.evaluate.pairs import check_protocol, evaluate_pairs_alphas

    check_protocol(protocol)
    files = _cell_files(flows, alphas, out_csvs)
    if len(magnified) != len(alphas):
        raise ValueError(f"{len(alphas)} alphas but {len(magnified)} magnified pair files")
    set_threads(threads)
    digest = checkpoint_sha256(checkpoint)
    data = fingerprint(pairs)
    results = {}
    for flow in flows:
        flow_model = _flow_model(flow, device, weights_manifest, weights_dir)
        outputs = {alpha: PairSet(path) for alpha, path in zip(alphas, magnified)}
        with torch.inference_mode():
            for alpha, metrics in evaluate_pairs_alphas(PairSet(pairs), outputs, flow_model, crop, limit, device=device,
                                                        progress=True, protocol=protocol).items():
                results[alpha, flow] = metrics
    rows = []
    for (alpha, flow), out_csv in files.items():
        row = dict(benchmark=benchmark, kind="pairs", method=method, flow=flow, alpha=alpha, **results[alpha, flow])
        row.update(provenance(digest, method, method_settings, flow, alpha, crop, limit, protocol),
                   protocol=protocol, data_fingerprint=data)
        write_csv([row], out_csv)
        log(f"{benchmark} {method} x{alpha:g} under {flow} ({protocol} protocol) -> {out_csv}")
        rows.append(row)
    return rows


def evaluate_sweep(sweeps: list[str], method: str, settings: dict, samples: list[str | Path],
                   out_csvs: list[str | Path], border: int = 8, device: str = "cpu",
                   checkpoint: str | Path | None = None, threads: int | None = None,
                   protocols: list[str] | None = None) -> list:
    """One method on each synthetic sweep in ``sweeps`` (the method built once): per sweep a table
    with a row per level (SSIM, PSNR against the ground truth). ``samples``: each set's manifest;
    ``out_csvs``: one file per sweep; ``checkpoint``: a learned method's model; ``protocols``: per
    sweep, oh (Oh et al.'s scoring, the default) or axial (Axial-MM's generic_eval.py: 5 px black
    pad, float output)."""
    from motionmag.synth.samples import SyntheticSet
    from motionmag.evaluate.sweep import evaluate_sweep as score_sweep
    from motionmag.methods import get_magnifier

    protocols = protocols or ["oh"] * len(sweeps)
    if not len(sweeps) == len(samples) == len(out_csvs) == len(protocols):
        raise ValueError(f"{len(sweeps)} sweeps but {len(samples)} sample sets, {len(out_csvs)} result files "
                         f"and {len(protocols)} protocols")
    set_threads(threads)
    settings = with_checkpoint(settings, checkpoint)
    magnifier = get_magnifier(method, device=device, **settings)
    digest, method_settings = checkpoint_sha256(checkpoint), {k: v for k, v in settings.items() if k != "checkpoint"}
    tables = []
    for sweep, manifest, out_csv, protocol in zip(sweeps, samples, out_csvs, protocols):
        dataset = SyntheticSet(manifest)
        table = score_sweep(dataset, magnifier, border, device=device, progress=True, protocol=protocol)
        cell = provenance(digest, method, method_settings, border, protocol)
        table = table.assign(benchmark=sweep, method=method, protocol=protocol, **cell,
                             data_fingerprint=dataset.fingerprint)
        write_csv(table.to_dict("records"), out_csv)
        log(f"{sweep} {method}: {len(table)} levels -> {out_csv}")
        tables.append(table)
    return tables
