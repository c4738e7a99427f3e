"""The workflow's steps as plain functions (the Snakemake scripts only unpack arguments and call these).

Clips live as folders of lossless PNG frames next to a ``meta.json`` (fps, size, and for rendered
clips the renderer settings that define their ground truth).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from motionmag import __version__
from motionmag.data.demo import DemoClip, DemoRenderer
from motionmag.io import open_video, open_writer

# torch and the methods are imported where they are used: the table, plot, video and slice jobs
# never need them, and importing torch costs each of those jobs seconds


def _write_json(path: str | Path, payload: dict) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


def read_meta(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def render_clip(settings: dict, frames_dir: str | Path, meta_path: str | Path, alpha: float = 1.0) -> None:
    """Render a synthetic clip (or, with alpha, its magnified ground truth) to PNG frames."""
    clip = DemoClip.from_dict(settings)
    renderer = DemoRenderer(clip)
    with open_writer(frames_dir, clip.fps) as writer:
        for frame in tqdm(renderer.frames(alpha), total=clip.frames, desc=f"render x{alpha:g}"):
            writer.write(frame)
    obj, bg = renderer.displacements(alpha)
    meta = dict(fps=clip.fps, width=clip.width, height=clip.height, frames=clip.frames, render=clip.to_dict())
    meta.update(alpha=alpha, object_displacement=obj.tolist(), background_displacement=bg.tolist())
    _write_json(meta_path, meta)


def import_clip(source: str | Path, frames_dir: str | Path, meta_path: str | Path, fps: float | None = None,
                max_frames: int | None = None, scale: float = 1.0) -> None:
    """Copy a video or frame folder to lossless PNG frames, optionally shortened and downscaled."""
    import cv2

    reader = open_video(source, fps=fps)
    total = min(len(reader), max_frames or len(reader))
    count, h, w = 0, reader.info.height, reader.info.width
    if scale != 1.0:
        h, w = max(2, round(h * scale)), max(2, round(w * scale))
    with open_writer(frames_dir, reader.info.fps) as writer:
        for frame in tqdm(reader, total=total, desc="import"):
            if count == total:
                break
            if scale != 1.0:
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            writer.write(frame)
            count += 1
    _write_json(meta_path, dict(fps=float(reader.info.fps), width=w, height=h, frames=count, source=str(source), render=None))


def magnify_clip(frames_dir: str | Path, meta_path: str | Path, method: str, settings: dict, alpha: float,
                 out_dir: str | Path, device: str = "cpu", video: str | Path | None = None, crf: int = 18) -> None:
    """Magnify a clip's frames into lossless PNG frames and, with ``video``, the same frames as a
    browser-playable H.264 file (written in the same pass)."""
    from contextlib import ExitStack

    meta = read_meta(meta_path)
    from motionmag.methods import get_magnifier

    magnifier = get_magnifier(method, fps=meta["fps"], device=device, **settings)
    reader = open_video(frames_dir, fps=meta["fps"])
    with ExitStack() as stack:
        writers = [stack.enter_context(open_writer(out_dir, meta["fps"]))]
        if video is not None:
            writers.append(stack.enter_context(open_writer(video, meta["fps"], crf=crf)))
        for frame in tqdm(magnifier.magnify(reader, alpha), total=len(reader), desc=f"{method} x{alpha:g}"):
            for writer in writers:
                writer.write(frame)


def side_by_side_video(frame_dirs: list[str], labels: list[str], meta_path: str | Path, out_path: str | Path,
                       crf: int = 18) -> None:
    from motionmag.report.visuals import side_by_side

    meta = read_meta(meta_path)
    streams = [open_video(d, fps=meta["fps"]) for d in frame_dirs]
    with open_writer(out_path, meta["fps"], crf=crf) as writer:
        for frame in side_by_side(streams, labels):
            writer.write(frame)


def xt_slice_image(frame_dirs: list[str], labels: list[str], meta_path: str | Path, out_path: str | Path) -> None:
    """x-t slices through the row of the object's centre (rendered clips) or the middle row."""
    import cv2

    from motionmag.report.visuals import slice_panel, xt_slice

    meta = read_meta(meta_path)
    row = meta["height"] // 2
    if meta.get("render"):
        row = int(meta["render"]["object_center"][1] * meta["height"])
    slices = [xt_slice(open_video(d, fps=meta["fps"]), row) for d in frame_dirs]
    panel = slice_panel(slices, labels)
    cv2.imwrite(str(out_path), cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))


def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).parent).stdout.strip()
        return f"{__version__}+g{commit}"
    except (OSError, subprocess.CalledProcessError):
        return __version__


def settings_hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _flow_model(flow: str, device: str, weights_manifest=None, weights_dir=None):
    """An evaluation flow model, its weights (if any) from the manifest, verified before loading."""
    from motionmag.flow import flow_spec, get_flow_model
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore(weights_manifest, weights_dir) if flow_spec(flow).needs_weights else None
    return get_flow_model(flow, device=device, preset="eval", store=store)


def _provenance(checkpoint_sha256: str, *settings) -> dict:
    """What a result cell was made from: a hash of its settings, the code, the trained model."""
    return dict(config_hash=settings_hash(*settings), code_version=code_version(), checkpoint_sha256=checkpoint_sha256)


def _write_csv(rows: list[dict], out_csv: str | Path) -> None:
    out_csv = Path(out_csv)
    tmp = out_csv.with_name(f".{out_csv.name}.tmp")
    pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, out_csv)


def evaluate_cell(clip: str, method: str, flow: str, alpha: float, clip_dir: str | Path, meta_path: str | Path,
                  magnified_dir: str | Path, out_csv: str | Path, truth_dir: str | Path | None = None,
                  method_settings: dict | None = None, region_margin: int = 8, device: str = "cpu",
                  checkpoint_sha256: str = "", weights_manifest: str | Path | None = None,
                  weights_dir: str | Path | None = None) -> dict:
    """One result cell of a clip: metrics of one magnified clip under one evaluation flow model."""
    from motionmag.evaluate import evaluate_clip

    meta = read_meta(meta_path)
    regions = None
    if meta.get("render"):
        renderer = DemoRenderer(DemoClip.from_dict(meta["render"]))
        obj_region, bg_region = renderer.regions(margin=region_margin)
        obj, bg = renderer.displacements()
        regions = {"object": (obj_region, obj), "background": (bg_region, bg)}
    flow_model = _flow_model(flow, device, weights_manifest, weights_dir)
    inputs = open_video(clip_dir, fps=meta["fps"])
    outputs = open_video(magnified_dir, fps=meta["fps"])
    truths = open_video(truth_dir, fps=meta["fps"]) if truth_dir else None
    import torch

    with torch.inference_mode():
        metrics = evaluate_clip(inputs, outputs, alpha, flow_model, truths=truths, regions=regions, device=device)
    row = dict(benchmark=clip, kind="clip", method=method, flow=flow, alpha=alpha, **metrics)
    for name in ("object", "background"):  # the same columns for every cell
        row.setdefault(f"amplification_{name}", math.nan)
        row.setdefault(f"residual_px_{name}", math.nan)
    row.update(_provenance(checkpoint_sha256, method, method_settings, flow, alpha, meta.get("render")))
    _write_csv([row], out_csv)
    return row


def magnify_pair_set(pairs_path: str | Path, method: str, settings: dict, alpha: float, out_path: str | Path,
                     crop: int | None = None, limit: int | None = None, device: str = "cpu",
                     protocol: str = "corrected") -> int:
    """Magnify a pair benchmark (each pair a two-frame clip, cropped as the benchmark says) into a
    pair file of (magnified I0, magnified I1): uint8 PNG, or under the ``paper`` protocol float32
    frames magnified in float32 (motionmag.evaluate.pairs)."""
    from motionmag.data.pairs import PairSet, write_pair_set
    from motionmag.evaluate.pairs import magnify_pairs, protocol_settings

    from motionmag.methods import get_magnifier

    magnifier = get_magnifier(method, device=device, **protocol_settings(method, settings, protocol))
    magnified = magnify_pairs(PairSet(pairs_path), magnifier, alpha, crop, limit, progress=True, protocol=protocol)
    return write_pair_set(out_path, magnified, encoding="npy" if protocol == "paper" else "png")


def evaluate_pair_cell(benchmark: str, method: str, flow: str, alpha: float, pairs_path: str | Path,
                       magnified_path: str | Path, out_csv: str | Path, crop: int | None = None,
                       limit: int | None = None, method_settings: dict | None = None, device: str = "cpu",
                       checkpoint_sha256: str = "", weights_manifest: str | Path | None = None,
                       weights_dir: str | Path | None = None, protocol: str = "corrected") -> dict:
    """One result cell of a pair benchmark (FlowMag's test protocol) under one evaluation flow
    model; ``protocol`` ``paper`` scores as FlowMag's eval.py does (motionmag.evaluate.pairs)."""
    from motionmag.data.h5 import fingerprint
    from motionmag.data.pairs import PairSet
    from motionmag.evaluate.pairs import check_protocol, evaluate_pairs

    check_protocol(protocol)
    flow_model = _flow_model(flow, device, weights_manifest, weights_dir)
    import torch

    with torch.inference_mode():
        metrics = evaluate_pairs(PairSet(pairs_path), PairSet(magnified_path), alpha, flow_model, crop, limit,
                                 device=device, progress=True, protocol=protocol)
    row = dict(benchmark=benchmark, kind="pairs", method=method, flow=flow, alpha=alpha, **metrics)
    row.update(_provenance(checkpoint_sha256, method, method_settings, flow, alpha, crop, limit, protocol),
               protocol=protocol, data_fingerprint=fingerprint(pairs_path))
    _write_csv([row], out_csv)
    return row


def evaluate_sweep_cell(sweep: str, method: str, settings: dict, set_path: str | Path, out_csv: str | Path,
                        border: int = 8, device: str = "cpu", checkpoint_sha256: str = "") -> pd.DataFrame:
    """One method on one synthetic sweep: a row per level (SSIM, PSNR against the ground truth)."""
    from motionmag.data.synthetic import SyntheticSet
    from motionmag.evaluate.sweep import evaluate_sweep

    samples = SyntheticSet(set_path)
    from motionmag.methods import get_magnifier

    magnifier = get_magnifier(method, device=device, **settings)
    table = evaluate_sweep(samples, magnifier, border, device=device, progress=True)
    provenance = _provenance(checkpoint_sha256, method, {k: v for k, v in settings.items() if k != "checkpoint"}, border)
    table = table.assign(benchmark=sweep, method=method, **provenance, data_fingerprint=samples.fingerprint)
    _write_csv(table.to_dict("records"), out_csv)
    return table


def make_tables(cell_paths: list[str], alphas: list[float], groups: list[str], cells_csv: str | Path,
                tables_dir: str | Path) -> None:
    """Every clip and pair-benchmark cell into ``cells.csv`` and FlowMag-layout tables per group."""
    from motionmag.report.tables import collect_cells, write_tables

    cells = collect_cells(cell_paths)
    Path(tables_dir).mkdir(parents=True, exist_ok=True)
    cells.to_csv(cells_csv, index=False, float_format="%.6g")
    write_tables(cells, tables_dir, alphas, groups)


def make_sweep_table(cell_paths: list[str], stem: str | Path) -> None:
    """A sweep's cells (one per method) into its SSIM table, ``<stem>.{csv,md,tex}``."""
    from motionmag.report.tables import write_sweep_table

    rows = pd.concat([pd.read_csv(p) for p in cell_paths], ignore_index=True)
    write_sweep_table(rows, stem)


def make_plot(cells_csv: str | Path, group: str, metric: str, out_png: str | Path) -> None:
    from motionmag.report.plots import plot_metric_vs_alpha
    from motionmag.report.tables import group_of

    cells = pd.read_csv(cells_csv)
    plot_metric_vs_alpha(cells[group_of(cells) == group], metric, out_png, title=group)


def make_sweep_plot(cell_paths: list[str], out_png: str | Path) -> None:
    from motionmag.report.plots import plot_sweep

    plot_sweep(pd.concat([pd.read_csv(p) for p in cell_paths], ignore_index=True), out_png)
