"""FlowMag's real-pair benchmark (docs/flowmag.md#the-original-evaluation): each test pair
(I0, I1) is resized so its short side is ``crop`` and centre-cropped to ``crop`` x ``crop``
(torchvision's Resize + CenterCrop), magnified as a two-frame clip, and scored with an evaluation
flow model F: ``fs = F(I0, I1)``, ``fp = F(I0, magnified I1)``; the errors are averaged over pairs.

Two protocols (config ``evaluation.protocol``):

- ``corrected`` (the default): frames are cropped on uint8 with OpenCV (area when shrinking), the
  magnified frames are stored and scored as uint8 (like any video output), learned methods may
  use bf16 on CUDA, flow networks run in eval mode, and the spread over pairs is the sample std
  (ddof 1) of the pairs that scored (NaN dropped).
- ``paper``: what FlowMag's released eval.py computes. torchvision 0.8.1's ``ToTensor``,
  ``Resize(crop)`` and ``CenterCrop(crop)`` on float tensors (:func:`paper_center_crop`); the
  magnified frames stay float32 (stored losslessly, ``encoding="npy"``); magnification in
  float32; the flow network's BatchNorm normalised by each call's own batch statistics, as eval.py
  left RAFT in train mode (``FlowModel.batch_norm_batch_stats``); NumPy's population std
  (ddof 0), and a NaN pair makes the mean NaN.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Iterator, Mapping

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from motionmag.data.pairs import PairSet
from motionmag.errors import MotionmagError
from motionmag.evaluate.metrics import magnification_error, motion_error, summarize
from motionmag.flow import FlowModel
from motionmag.methods.base import Magnifier, frame_to_tensor

PROTOCOLS = ("corrected", "paper")


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise MotionmagError(f"unknown evaluation protocol {protocol!r}; choose {' or '.join(PROTOCOLS)}")
    return protocol


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


def resize_short_side_tv081(x: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision 0.8.1's ``Resize(size)`` on a float (..., H, W) tensor: the short side becomes
    ``size`` and the long side ``int(size * long / short)`` (truncated), by ``F.interpolate``
    bilinear with ``align_corners=False`` and no antialiasing; a frame whose short side already
    is ``size`` comes back as it is. (A square frame counts as wide: its width is rescaled.)"""
    h, w = x.shape[-2:]
    new_h, new_w = size, size
    if w < h:
        new_h = int(size * h / w)
    else:
        new_w = int(size * w / h)
    if (w <= h and w == new_w) or (h <= w and h == new_h):
        return x
    batched = x if x.ndim == 4 else x.unsqueeze(0)
    out = F.interpolate(batched, size=[new_h, new_w], mode="bilinear", align_corners=False)
    return out if x.ndim == 4 else out.squeeze(0)


def center_crop_offsets_tv081(height: int, width: int, size: int) -> tuple[int, int]:
    """torchvision 0.8.1's ``center_crop`` offsets (top, left): its "temporary workaround" for
    TorchScript, ``int((H - size + 1) * 0.5)``, which rounds a half-pixel margin *up* (margin 5:
    3, where ``//`` gives 2 and Python's ``round(2.5)`` 2). The workaround replaced
    ``int(round((H - size) / 2.))`` (kept there as a comment) until pytorch/vision#3118
    (December 2020, after 0.8.1) put ``round`` back."""
    return int((height - size + 1) * 0.5), int((width - size + 1) * 0.5)


def paper_center_crop(frame: np.ndarray, size: int | None) -> np.ndarray:
    """FlowMag eval.py's test transform on an RGB uint8 (H, W, 3) frame: ``ToTensor`` (x / 255 in
    float32), torchvision 0.8.1's ``Resize(size)`` and ``CenterCrop(size)`` on the tensor. Returns
    float32 (size, size, 3) in [0, 1]; ``None`` only converts."""
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)
    x = x.float().div(255) if frame.dtype == np.uint8 else x.float()
    if size is not None:
        x = resize_short_side_tv081(x, size)
        top, left = center_crop_offsets_tv081(x.shape[-2], x.shape[-1], size)
        x = x[:, top : top + size, left : left + size]
    return np.ascontiguousarray(x.permute(1, 2, 0).numpy(), dtype=np.float32)


def protocol_settings(method: str, settings: dict, protocol: str) -> dict:
    """A method's settings under a protocol: ``paper`` magnifies in float32 (``amp`` off for the
    methods that have it; FlowMag's eval.py runs its generator in fp32)."""
    from motionmag.methods import method_spec

    settings = dict(settings)
    if check_protocol(protocol) == "paper" and "amp" in method_spec(method).options:
        settings["amp"] = False
    return settings


@contextmanager
def _float32(magnifier: Magnifier):
    """No mixed precision inside (learned magnifiers read ``amp`` at run time)."""
    amp = getattr(magnifier, "amp", None)
    if amp:
        magnifier.amp = False
    try:
        yield magnifier
    finally:
        if amp:
            magnifier.amp = amp


@contextmanager
def _batch_statistics(flow_model, on: bool):
    """A flow network's BatchNorm on each call's batch statistics (see FlowModel)."""
    if not (on and isinstance(flow_model, FlowModel)):
        yield flow_model
        return
    before = flow_model.batch_norm_batch_stats
    flow_model.batch_norm_batch_stats = True
    try:
        yield flow_model
    finally:
        flow_model.batch_norm_batch_stats = before


def pair_indices(count: int, limit: int | None) -> list[int]:
    """Which pairs a benchmark uses: all, or ``limit`` spread evenly over the file (so every
    source dataset in it is represented, not just the first)."""
    if limit is None or limit >= count:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, limit).round().astype(int).tolist()))


def benchmark_pairs(pairs: PairSet, crop: int | None, limit: int | None,
                    protocol: str = "corrected") -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """The benchmark's cropped (I0, I1, source) triples, in order: uint8 (``corrected``) or
    float32 in [0, 1] (``paper``)."""
    crop_frame = paper_center_crop if check_protocol(protocol) == "paper" else center_crop
    for i in pair_indices(len(pairs), limit):
        a, b = pairs[i]
        yield crop_frame(a, crop), crop_frame(b, crop), pairs.source(i)


def magnify_pairs(pairs: PairSet, magnifier: Magnifier, alpha: float, crop: int | None = None,
                  limit: int | None = None, progress: bool = False,
                  protocol: str = "corrected") -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """(magnified I0, magnified I1, source) per benchmark pair: each pair is a two-frame clip
    whose reference is I0 (static mode). ``paper``: float32 frames in and out, no mixed precision
    (write them with ``write_pair_set(..., encoding="npy")``)."""
    total = len(pair_indices(len(pairs), limit))
    with _float32(magnifier) if protocol == "paper" else nullcontext():
        for a, b, source in tqdm(benchmark_pairs(pairs, crop, limit, protocol), total=total, disable=not progress,
                                 desc=f"{magnifier.name} x{alpha:g}"):
            out_a, out_b = magnifier.magnify([a, b], alpha)
            yield out_a, out_b, source


def evaluate_pairs(pairs: PairSet, magnified: PairSet, alpha: float, flow_model: FlowModel, crop: int | None = None,
                   limit: int | None = None, device: str | torch.device = "cpu", progress: bool = False,
                   protocol: str = "corrected") -> dict[str, float]:
    """Motion and magnification error over the benchmark's pairs: ``<metric>``, ``_std`` and
    ``_sem`` (over pairs, as FlowMag's eval.py prints them) and ``pairs``. ``protocol``: see the
    module's docstring; the magnified file must have been made under the same one."""
    return evaluate_pairs_alphas(pairs, {alpha: magnified}, flow_model, crop, limit, device, progress, protocol)[alpha]


def evaluate_pairs_alphas(pairs: PairSet, magnified: Mapping[float, PairSet], flow_model: FlowModel,
                          crop: int | None = None, limit: int | None = None, device: str | torch.device = "cpu",
                          progress: bool = False, protocol: str = "corrected") -> dict[float, dict[str, float]]:
    """:func:`evaluate_pairs` for several magnifications of one benchmark (``magnified``: alpha ->
    pair file): the input motion fs = F(I0, I1) is estimated once per pair and shared by every
    alpha, so each alpha's result equals its evaluation alone. Returns alpha -> metrics."""
    device = torch.device(device)
    paper = check_protocol(protocol) == "paper"
    indices = pair_indices(len(pairs), limit)
    for out in magnified.values():
        if len(out) != len(indices):
            raise MotionmagError(f"{out.path}: {len(out)} magnified pairs for {len(indices)} benchmark pairs (remake it)")
        if len(out) and (out[0][1].dtype == np.float32) != paper:
            kind = "float32" if out[0][1].dtype == np.float32 else "uint8"
            raise MotionmagError(f"{out.path}: {kind} magnified frames, not those of the {protocol} protocol (remake it)")
    series = {alpha: {"motion_error": [], "magnification_error": []} for alpha in magnified}
    with torch.no_grad(), _batch_statistics(flow_model, paper):
        for k, (a, b, _) in enumerate(tqdm(benchmark_pairs(pairs, crop, limit, protocol), total=len(indices),
                                           disable=not progress)):
            x0, x1 = frame_to_tensor(a, device), frame_to_tensor(b, device)
            fs = flow_model(x0, x1)
            for alpha, out in magnified.items():
                fp = flow_model(x0, frame_to_tensor(out[k][1], device))
                series[alpha]["motion_error"].append(float(motion_error(fp, fs, alpha)))
                series[alpha]["magnification_error"].append(float(magnification_error(fp, fs, alpha)))
    results = {}
    for alpha, metrics in series.items():
        result: dict[str, float] = {"pairs": len(indices)}
        for metric, values in metrics.items():
            mean, std, sem = summarize(values, ddof=0, skip_nan=False) if paper else summarize(values)
            result.update({metric: mean, f"{metric}_std": std, f"{metric}_sem": sem})
        results[alpha] = result
    return results
