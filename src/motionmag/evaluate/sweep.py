"""Oh et al.'s synthetic sweeps (docs/oh2018.md#the-papers-evaluation): every sample's frames A
and B are magnified by its own alpha (magnified motion / input motion) as a two-frame clip, and the
magnified B is compared with the rendered ground truth by SSIM and PSNR, away from a ``border``.
SSIM(B, ground truth), the input left as it is, is the baseline a method has to beat.

Two protocols (``protocol``):

- ``"oh"``: the frames as they are, the method's 8-bit (rounded) output, ``border`` px left out
  on every side of the frame.
- ``"axial"``: Axial-MM's ``script/generic_eval.py`` (docs/oh2018.md#scoring-the-sweeps-ohs-protocol-and-axial-mms):
  A and B padded with 5 px of black on every side before magnifying, ``border`` (8) px cropped from
  the padded output and the same from the ground truth and B as if padded too (8 - 5 = 3 px inside
  the frame), the output scored as float (clamped to 0-255, not rounded), and the alpha of
  Axial's rounded list (:func:`motionmag.synth.axial_eval.axial_alpha`).

Both score SSIM as pytorch_msssim's (11-tap Gaussian, sigma 1.5, valid region, channel mean; data
range 255 on 0-255 values = data range 1 on [0, 1]).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from motionmag.synth.samples import SyntheticSet
from motionmag.errors import MotionmagError
from motionmag.evaluate.metrics import psnr, ssim, summarize
from motionmag.methods.base import Magnifier, frame_to_tensor

SCORES = ("ssim", "psnr", "input_ssim")
PROTOCOLS = ("oh", "axial")
AXIAL_PAD = 5  # px of black around A and B (generic_eval.py: F.pad(..., (5, 5, 5, 5), "constant", -1))


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    if 2 * border + 11 > min(x.shape[-2:]):  # SSIM's 11-tap window must still fit
        raise MotionmagError(f"sweep border {border} px leaves too little of a {x.shape[-1]}x{x.shape[-2]} frame")
    return x[..., border : x.shape[-2] - border, border : x.shape[-1] - border] if border else x


def _check_protocol(protocol: str, border: int) -> None:
    if protocol not in PROTOCOLS:
        raise MotionmagError(f"sweep protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if protocol == "axial" and border < AXIAL_PAD:
        raise MotionmagError(f"the axial sweep protocol crops at least its {AXIAL_PAD} px pad; border is {border}")


def _padded_float(frame: np.ndarray, pad: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (H + 2 pad, W + 2 pad, 3) float32 in [0, 1], black around it. The
    division is the one frame_to_tensor does for uint8 (float32 x / 255): the method sees the
    same values as on the 8-bit path and returns float32, unrounded."""
    x = frame.astype(np.float32) / np.float32(255.0) if frame.dtype == np.uint8 else np.asarray(frame, np.float32)
    return np.pad(x, ((pad, pad), (pad, pad), (0, 0)))


def _to_255(frame: np.ndarray, device) -> torch.Tensor:
    """(H, W, 3) uint8 or float [0, 1] -> (1, 3, H, W) float64 on 0-255, without rounding."""
    t = torch.from_numpy(np.ascontiguousarray(frame)).to(device).double()
    t = t if frame.dtype == np.uint8 else t.clamp(0.0, 1.0) * 255.0
    return t.permute(2, 0, 1).unsqueeze(0)


def _score_axial(frames, alpha: float, magnifier: Magnifier, border: int, device) -> dict[str, float]:
    a, b, _, truth = frames
    pa, pb = (_padded_float(x, AXIAL_PAD) for x in (a, b))
    _, out_b = magnifier.magnify([pa, pb], alpha)
    if out_b.shape != pb.shape:
        raise MotionmagError(f"{magnifier.name or 'the method'} returned a {out_b.shape[1]}x{out_b.shape[0]} frame "
                             f"for a {pb.shape[1]}x{pb.shape[0]} one")
    out = _crop(_to_255(out_b, device), border)
    gt, inp = (_crop(_to_255(x, device), border - AXIAL_PAD) for x in (truth, b))
    return {"ssim": float(ssim(out, gt, data_range=255.0)), "psnr": float(psnr(out, gt, data_range=255.0)),
            "input_ssim": float(ssim(inp, gt, data_range=255.0))}


def score_sample(frames, alpha: float, magnifier: Magnifier, border: int = 8,
                 device: str | torch.device = "cpu", protocol: str = "oh") -> dict[str, float]:
    """SSIM and PSNR of one sweep sample's magnified B against its ground truth, and the
    baseline SSIM of B itself, magnified by ``alpha`` as given (:func:`evaluate_sweep` picks it).

    ``protocol="oh"``: 8-bit output, ``border`` px cropped. ``protocol="axial"``: A and B padded
    with 5 px of black, float output (clamped, unrounded), ``border`` px cropped from the padded
    output and ``border - 5`` from the ground truth and B."""
    _check_protocol(protocol, border)
    if protocol == "axial":
        return _score_axial(frames, alpha, magnifier, border, device)
    a, b, _, truth = frames
    _, out_b = magnifier.magnify([a, b], alpha)
    out, gt, inp = (_crop(frame_to_tensor(x, device), border) for x in (out_b, truth, b))
    return {"ssim": float(ssim(out, gt)), "psnr": float(psnr(out, gt)), "input_ssim": float(ssim(inp, gt))}


def sample_alpha(meta: dict, alpha: float, protocol: str = "oh") -> float:
    """The alpha a sweep sample is magnified by: its own (``oh``), or Axial-MM's script's for its
    level (``axial``: 10 / the rounded motion, or 200 for noise; a one-line error where the sample's
    sweep is not on Axial's grid)."""
    if protocol != "axial":
        return alpha
    from motionmag.synth.axial_eval import axial_alpha

    return axial_alpha(meta["sweep"], float(meta["level"]), alpha)


def evaluate_sweep(samples: SyntheticSet, magnifier: Magnifier, border: int = 8,
                   device: str | torch.device = "cpu", progress: bool = False,
                   protocol: str = "oh") -> pd.DataFrame:
    """One row per sweep level: ``sweep_kind``, ``level`` (input motion in px, or the noise factor),
    ``alpha`` (the one used), ``samples`` and each score's mean, ``_std`` and ``_sem`` over the
    level's scenes. ``protocol``: ``"oh"`` or ``"axial"`` (see :func:`score_sample`). A set holding
    both sweeps (Axial-MM's, imported whole) gives the subpixel rows, then the noise rows."""
    _check_protocol(protocol, border)
    by_level: dict[tuple[str, int], dict] = {}
    scores: dict[tuple[str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with torch.no_grad():
        for i in tqdm(range(len(samples)), disable=not progress, desc=magnifier.name):
            frames, alpha = samples[i]
            meta = samples.meta(i)
            if "level_index" not in meta:
                raise MotionmagError(f"{samples.path}: sample {i} is not from a sweep (no level in its metadata)")
            alpha = sample_alpha(meta, alpha, protocol)
            key = (meta["sweep"], meta["level_index"])
            by_level[key] = {"sweep_kind": meta["sweep"], "level": meta["level"], "alpha": alpha}
            for name, value in score_sample(frames, alpha, magnifier, border, device, protocol).items():
                scores[key][name].append(value)
    rows = []
    for key in sorted(by_level, key=lambda k: (k[0] != "subpixel", k)):
        row = {**by_level[key], "samples": len(scores[key]["ssim"])}
        for name in SCORES:
            mean, std, sem = summarize(scores[key][name])
            row.update({name: mean, f"{name}_std": std, f"{name}_sem": sem})
        rows.append(row)
    return pd.DataFrame(rows)
