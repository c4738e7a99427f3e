"""Oh et al.'s synthetic sweeps (docs/oh2018.md#the-papers-evaluation): every sample's frames A
and B are magnified by its own alpha (magnified motion / input motion) as a two-frame clip, and the
magnified B is compared with the rendered ground truth by SSIM and PSNR, away from a ``border``
(Axial-mm's protocol crops 8 px). SSIM(B, ground truth), the input left as it is, is the baseline
a method has to beat.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import torch
from tqdm import tqdm

from motionmag.synth.samples import SyntheticSet
from motionmag.errors import MotionmagError
from motionmag.evaluate.metrics import psnr, ssim, summarize
from motionmag.methods.base import Magnifier, frame_to_tensor

SCORES = ("ssim", "psnr", "input_ssim")


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    if 2 * border + 11 > min(x.shape[-2:]):  # SSIM's 11-tap window must still fit
        raise MotionmagError(f"sweep border {border} px leaves too little of a {x.shape[-1]}x{x.shape[-2]} frame")
    return x[..., border : x.shape[-2] - border, border : x.shape[-1] - border] if border else x


def score_sample(frames, alpha: float, magnifier: Magnifier, border: int = 8,
                 device: str | torch.device = "cpu") -> dict[str, float]:
    """SSIM and PSNR of one sweep sample's magnified B against its ground truth, and the
    baseline SSIM of B itself."""
    a, b, _, truth = frames
    _, out_b = magnifier.magnify([a, b], alpha)
    out, gt, inp = (_crop(frame_to_tensor(x, device), border) for x in (out_b, truth, b))
    return {"ssim": float(ssim(out, gt)), "psnr": float(psnr(out, gt)), "input_ssim": float(ssim(inp, gt))}


def evaluate_sweep(samples: SyntheticSet, magnifier: Magnifier, border: int = 8,
                   device: str | torch.device = "cpu", progress: bool = False) -> pd.DataFrame:
    """One row per sweep level: ``sweep_kind``, ``level`` (input motion in px, or the noise factor),
    ``alpha``, ``samples`` and each score's mean, ``_std`` and ``_sem`` over the level's scenes."""
    by_level: dict[int, dict] = {}
    scores: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with torch.no_grad():
        for i in tqdm(range(len(samples)), disable=not progress, desc=magnifier.name):
            frames, alpha = samples[i]
            meta = samples.meta(i)
            if "level_index" not in meta:
                raise MotionmagError(f"{samples.path}: sample {i} is not from a sweep (no level in its metadata)")
            key = meta["level_index"]
            by_level[key] = {"sweep_kind": meta["sweep"], "level": meta["level"], "alpha": alpha}
            for name, value in score_sample(frames, alpha, magnifier, border, device).items():
                scores[key][name].append(value)
    rows = []
    for key in sorted(by_level):
        row = {**by_level[key], "samples": len(scores[key]["ssim"])}
        for name in SCORES:
            mean, std, sem = summarize(scores[key][name])
            row.update({name: mean, f"{name}_std": std, f"{name}_sem": sem})
        rows.append(row)
    return pd.DataFrame(rows)
