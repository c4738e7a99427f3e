"""Axial-MM inference (Byung-Ki et al., ECCV 2024): Oh et al.'s static, dynamic and temporal modes
with the motion magnified separately along an angle and across it (docs/newer_methods.md).

    magnifier = AxialMagnifier("axial-mm")                                  # the authors' weights, fetched
    magnifier = AxialMagnifier("axial_mm.tar", alpha_across=1, theta=30)   # x alpha along 30 deg only
    magnifier = AxialMagnifier(path, mode="temporal", filter="butter", band=(0.5, 3), fps=30)
    for frame in magnifier.magnify(open_video("clip.mp4"), alpha=20): ...

alpha (the magnify call's) is the factor along ``theta`` (degrees from the image's x axis, the
width direction); ``alpha_across`` the factor across it (default: alpha, the generic case, the
same as theta 0 with equal factors). Both are totals, output motion / input motion, as the network
takes them (docs/newer_methods.md#alpha-conventions-settled). The temporal mode filters the
64-channel concat(shape_x, shape_y) and decodes M_ref + delta(y), as the original's IIR modes;
``reference="first"`` decodes on frame 0's shape, as the original's fir mode.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch

from motionmag.errors import MotionmagError
from motionmag.methods.base import BAND, FILTER, FPS, MAX_ALPHA, TAPS, MethodSpec, Option, mode_option
from motionmag.methods.network import (BATCH_SIZE, COMPOSITE, ORDER, REFERENCE, NetworkMagnifier, checkpoint_option,
                                       resolve_checkpoint)
from motionmag.models.axial import AxialMagNet, load_axial_checkpoint


class AxialMagnifier(NetworkMagnifier):
    """Axial-MM's network as a :class:`Magnifier`.

    checkpoint: the authors' ``axial_mm.tar`` (or a bare state dict), or the weights name
    ``axial-mm``. alpha_across: the factor across ``theta`` (default: alpha; 0, as in the authors'
    README, feeds the network no motion across, which it renders at about 1x). theta: the angle of
    the magnified axis in degrees (0: the x axis; the original's command line also takes degrees).
    mode, filter, band, fps, taps, order, reference, batch_size, amp, composite: as Oh2018Magnifier's.
    """

    spec = MethodSpec("axial", (
        checkpoint_option("the authors' axial_mm.tar (their train.py's dict) or a state dict", "axial-mm"),
        mode_option("static", "dynamic", "temporal"),
        Option("alpha_across", None, float, "the magnification across theta (output / input motion; 0 as the authors' "
               "README: no motion fed across, which renders at about 1x)", minimum=0.0, default_text="alpha"),
        Option("theta", 0.0, float, "the angle of the axis alpha magnifies, in degrees from the image's x (width) axis"),
        FILTER, BAND, FPS, TAPS, ORDER, REFERENCE, BATCH_SIZE,
        Option("amp", True, bool, "bf16 decoding on CUDA"),
        COMPOSITE,
    ), released_weights="axial-mm")

    def __init__(self, checkpoint: str | Path, mode: str = "static", alpha_across: float | None = None, theta: float = 0.0,
                 filter: str = "iir", band: Sequence[float] | None = None, fps: float | None = None, taps: int | None = None,
                 order: int = 1, reference: str = "frame", batch_size: int | None = None, amp: bool = True,
                 composite: bool = True, device: str | torch.device = "cpu"):
        if not math.isfinite(theta):
            raise MotionmagError(f"theta must be a finite angle in degrees, got {theta}")
        if alpha_across is not None and not (math.isfinite(alpha_across) and 0 <= alpha_across <= MAX_ALPHA):
            raise MotionmagError(f"alpha_across must be a finite number in [0, {MAX_ALPHA:g}], got {alpha_across:g}")
        super().__init__(mode, batch_size, amp, composite, reference,
                         dict(kind=filter, band=band, fps=fps, taps=taps, order=order), device)
        self.alpha_across, self.theta = alpha_across, float(theta)
        self.checkpoint = resolve_checkpoint(checkpoint, self.name, ("axial",))
        self.net: AxialMagNet = load_axial_checkpoint(self.checkpoint).to(self.device)

    def _factors(self, alpha: float, batch: int):
        """mag (B, 2, 1, 1): alpha along theta, alpha_across across; theta (B, 1, 1, 1) in radians."""
        return self.net.factors(alpha, self.alpha_across, math.radians(self.theta), batch, self.device)

    def _manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: float) -> torch.Tensor:
        return self.net.manipulate(shape_a, shape_b, *self._factors(alpha, shape_b.shape[0]))

    def _delta(self, filtered: torch.Tensor, alpha: float) -> torch.Tensor:
        return self.net.delta(filtered, *self._factors(alpha, filtered.shape[0]))


__all__ = ["AxialMagnifier"]
