"""Evaluate one magnified clip: every frame t >= 1 against the reference frame 0 of the input."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping

import numpy as np
import torch

from motionmag.evaluate.metrics import (
    magnification_error,
    measured_amplification,
    motion_error,
    psnr,
    region_displacement,
    ssim,
    summarize,
)
from motionmag.flow import FlowModel
from motionmag.methods.base import frame_to_tensor


def evaluate_clip(
    inputs: Iterable[np.ndarray],
    outputs: Iterable[np.ndarray],
    alpha: float,
    flow_models: Mapping[str, FlowModel],
    truths: Iterable[np.ndarray] | None = None,
    regions: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, dict[str, float]]:
    """Metrics of ``outputs`` (the input clip magnified by ``alpha``) under each of ``flow_models``
    (name -> estimator), one pair (0, t) per frame t >= 1. The clips are read once, and the
    flow-free metrics (SSIM, PSNR) computed once and shared by every flow model's result.

    Args:
        truths: ground-truth magnified frames, for SSIM and PSNR (synthetic clips).
        regions: name -> (boolean (H, W) mask, (T, 2) true input displacement from frame 0); gives
            ``amplification_<name>`` (should equal alpha) and ``residual_px_<name>`` (the largest
            distance between measured and alpha-times-true displacement).

    Returns flow name -> a flat dict: ``<metric>``, ``<metric>_std``, ``<metric>_sem`` and ``pairs``.
    """
    device = torch.device(device)
    shared: dict[str, list[float]] = defaultdict(list)  # flow-free metrics
    series = {flow: defaultdict(list) for flow in flow_models}
    measured = {flow: defaultdict(list) for flow in flow_models}
    truths = iter(truths) if truths is not None else None
    ref_in = ref_out = None
    pairs = 0
    with torch.no_grad():
        for t, (frame_in, frame_out) in enumerate(zip(inputs, outputs)):
            x, y = frame_to_tensor(frame_in, device), frame_to_tensor(frame_out, device)
            truth = frame_to_tensor(next(truths), device) if truths is not None else None
            if truth is not None and t > 0:
                shared["ssim"].append(float(ssim(y, truth)))
                shared["psnr"].append(float(psnr(y, truth)))
            if t == 0:
                ref_in, ref_out = x, y
                for flow in flow_models:
                    for name in regions or {}:
                        measured[flow][name].append(np.zeros(2))
                continue
            for flow, flow_model in flow_models.items():
                fs = flow_model(ref_in, x)
                fp = flow_model(ref_in, y)
                series[flow]["motion_error"].append(float(motion_error(fp, fs, alpha)))
                series[flow]["magnification_error"].append(float(magnification_error(fp, fs, alpha)))
                if regions:
                    f_out = flow_model(ref_out, y)
                    for name, (mask, _) in regions.items():
                        measured[flow][name].append(region_displacement(f_out, mask)[0].cpu().numpy())
            pairs += 1
    results = {}
    for flow in flow_models:
        result: dict[str, float] = {"pairs": pairs}
        for metric in ("motion_error", "magnification_error", "ssim", "psnr"):
            mean, std, sem = summarize(series[flow].get(metric) or shared.get(metric, []))
            result.update({metric: mean, f"{metric}_std": std, f"{metric}_sem": sem})
        for name, (_, true_input) in (regions or {}).items():
            got = np.stack(measured[flow][name])
            true_input = np.asarray(true_input)[: len(got)]
            result[f"amplification_{name}"] = measured_amplification(got, true_input)
            result[f"residual_px_{name}"] = float(np.linalg.norm(got - alpha * true_input, axis=1).max())
        results[flow] = result
    return results
