"""FlowMag's real-pair benchmark (specs/flowmag.md §5): each test pair (I0, I1) is resized so its
short side is ``crop`` and centre-cropped to ``crop`` x ``crop`` (torchvision's Resize + CenterCrop),
magnified as a two-frame clip, and scored with an evaluation flow model F:
``fs = F(I0, I1)``, ``fp = F(I0, magnified I1)``; the errors are averaged over pairs.
"""

from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np
import torch
from tqdm import tqdm

from motionmag.data.pairs import PairSet
from motionmag.errors import MotionmagError
from motionmag.evaluate.metrics import magnification_error, motion_error, summarize
from motionmag.flow import FlowModel
from motionmag.methods.base import Magnifier, frame_to_tensor


def center_crop(frame: np.ndarray, size: int | None) -> np.ndarray:
    """Resize so the short side is ``size`` (bilinear, area when shrinking), then cut the centre
    ``size`` x ``size``; ``None`` keeps the frame as it is."""
    if size is None:
        return frame
    h, w = frame.shape[:2]
    scale = size / min(h, w)
    if scale != 1.0:
        new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
        frame = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        h, w = new_h, new_w
    top, left = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(frame[top : top + size, left : left + size])


def pair_indices(count: int, limit: int | None) -> list[int]:
    """Which pairs a benchmark uses: all, or ``limit`` spread evenly over the file (so every
    source dataset in it is represented, not just the first)."""
    if limit is None or limit >= count:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, limit).round().astype(int).tolist()))


def benchmark_pairs(pairs: PairSet, crop: int | None, limit: int | None) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """The benchmark's cropped (I0, I1, source) triples, in order."""
    for i in pair_indices(len(pairs), limit):
        a, b = pairs[i]
        yield center_crop(a, crop), center_crop(b, crop), pairs.source(i)


def magnify_pairs(pairs: PairSet, magnifier: Magnifier, alpha: float, crop: int | None = None,
                  limit: int | None = None, progress: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """(magnified I0, magnified I1, source) per benchmark pair: each pair is a two-frame clip
    whose reference is I0 (static mode)."""
    total = len(pair_indices(len(pairs), limit))
    for a, b, source in tqdm(benchmark_pairs(pairs, crop, limit), total=total, disable=not progress,
                             desc=f"{magnifier.name} x{alpha:g}"):
        out_a, out_b = magnifier.magnify([a, b], alpha)
        yield out_a, out_b, source


def evaluate_pairs(pairs: PairSet, magnified: PairSet, alpha: float, flow_model: FlowModel, crop: int | None = None,
                   limit: int | None = None, device: str | torch.device = "cpu", progress: bool = False) -> dict[str, float]:
    """Motion and magnification error over the benchmark's pairs: ``<metric>``, ``_std`` and
    ``_sem`` (over pairs, as FlowMag's eval.py prints them) and ``pairs``."""
    device = torch.device(device)
    indices = pair_indices(len(pairs), limit)
    if len(magnified) != len(indices):
        raise MotionmagError(f"{magnified.path}: {len(magnified)} magnified pairs for {len(indices)} benchmark pairs (remake it)")
    series: dict[str, list[float]] = {"motion_error": [], "magnification_error": []}
    with torch.no_grad():
        for k, (a, b, _) in enumerate(tqdm(benchmark_pairs(pairs, crop, limit), total=len(indices), disable=not progress)):
            x0, x1 = frame_to_tensor(a, device), frame_to_tensor(b, device)
            y1 = frame_to_tensor(magnified[k][1], device)
            fs, fp = flow_model(x0, x1), flow_model(x0, y1)
            series["motion_error"].append(float(motion_error(fp, fs, alpha)))
            series["magnification_error"].append(float(magnification_error(fp, fs, alpha)))
    result: dict[str, float] = {"pairs": len(indices)}
    for metric, values in series.items():
        mean, std, sem = summarize(values)
        result.update({metric: mean, f"{metric}_std": std, f"{metric}_sem": sem})
    return result
