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
    (name -> estimator), one pair (0, t) per frame t >= 1: :func:`evaluate_alphas` with one alpha.

    Args:
        truths: ground-truth magnified frames, for SSIM and PSNR (synthetic clips).
        regions: name -> (boolean (H, W) mask, (T, 2) true input displacement from frame 0); gives
            ``amplification_<name>`` (should equal alpha) and ``residual_px_<name>`` (the largest
            distance between measured and alpha-times-true displacement).

    Returns flow name -> a flat dict: ``<metric>``, ``<metric>_std``, ``<metric>_sem`` and ``pairs``.
    """
    return evaluate_alphas(inputs, {alpha: outputs}, flow_models, None if truths is None else {alpha: truths},
                           regions, device)[alpha]


def evaluate_alphas(
    inputs: Iterable[np.ndarray],
    magnified: Mapping[float, Iterable[np.ndarray]],
    flow_models: Mapping[str, FlowModel],
    truths: Mapping[float, Iterable[np.ndarray]] | None = None,
    regions: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    device: str | torch.device = "cpu",
) -> dict[float, dict[str, dict[str, float]]]:
    """:func:`evaluate_clip` for several magnifications of one input clip at once (``magnified``:
    alpha -> frames; ``truths``: alpha -> ground-truth frames). Every clip is read once, the input
    motion fs = F(I0, It) is estimated once per flow model and frame and shared by every alpha,
    and SSIM and PSNR are computed once and shared by every flow model. Each alpha's result
    equals its evaluation alone.

    Returns alpha -> flow name -> metrics, as :func:`evaluate_clip`.
    """
    device = torch.device(device)
    alphas = list(magnified)
    shared = {alpha: defaultdict(list) for alpha in alphas}  # flow-free metrics
    series = {alpha: {flow: defaultdict(list) for flow in flow_models} for alpha in alphas}
    measured = {alpha: {flow: defaultdict(list) for flow in flow_models} for alpha in alphas}
    truth_frames = {alpha: iter(truths[alpha]) for alpha in alphas if truths and truths.get(alpha) is not None}
    ref_in, ref_out = None, {}
    pairs = 0
    with torch.no_grad():
        for t, (frame_in, *frames_out) in enumerate(zip(inputs, *(magnified[alpha] for alpha in alphas))):
            x = frame_to_tensor(frame_in, device)
            ys = {alpha: frame_to_tensor(frame, device) for alpha, frame in zip(alphas, frames_out)}
            for alpha, frames in truth_frames.items():
                truth = frame_to_tensor(next(frames), device)
                if t > 0:
                    shared[alpha]["ssim"].append(float(ssim(ys[alpha], truth)))
                    shared[alpha]["psnr"].append(float(psnr(ys[alpha], truth)))
            if t == 0:
                ref_in, ref_out = x, ys
                for alpha in alphas:
                    for flow in flow_models:
                        for name in regions or {}:
                            measured[alpha][flow][name].append(np.zeros(2))
                continue
            for flow, flow_model in flow_models.items():
                fs = flow_model(ref_in, x)
                for alpha, y in ys.items():
                    fp = flow_model(ref_in, y)
                    series[alpha][flow]["motion_error"].append(float(motion_error(fp, fs, alpha)))
                    series[alpha][flow]["magnification_error"].append(float(magnification_error(fp, fs, alpha)))
                    if regions:
                        f_out = flow_model(ref_out[alpha], y)
                        for name, (mask, _) in regions.items():
                            measured[alpha][flow][name].append(region_displacement(f_out, mask)[0].cpu().numpy())
            pairs += 1
    results: dict[float, dict[str, dict[str, float]]] = {}
    for alpha in alphas:
        results[alpha] = {}
        for flow in flow_models:
            result: dict[str, float] = {"pairs": pairs}
            for metric in ("motion_error", "magnification_error", "ssim", "psnr"):
                mean, std, sem = summarize(series[alpha][flow].get(metric) or shared[alpha].get(metric, []))
                result.update({metric: mean, f"{metric}_std": std, f"{metric}_sem": sem})
            for name, (_, true_input) in (regions or {}).items():
                got = np.stack(measured[alpha][flow][name])
                true_input = np.asarray(true_input)[: len(got)]
                result[f"amplification_{name}"] = measured_amplification(got, true_input)
                result[f"residual_px_{name}"] = float(np.linalg.norm(got - alpha * true_input, axis=1).max())
            results[alpha][flow] = result
    return results
