"""The one interface every magnification method implements, and what they share.

Convention for every method: ``alpha`` = output displacement / input displacement, so alpha 1 is
the identity (as in FlowMag and Oh et al. 2018). Eulerian methods amplify a band-passed signal
by ``alpha - 1`` and add it back: a motion d inside the pass band becomes d + (alpha - 1) d.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Iterable, Iterator

import numpy as np
import torch

from motionmag.errors import MotionmagError

# NTSC YIQ, as in Wu et al. 2012 and Wadhwa et al. 2013
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> YIQ."""
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", _YIQ_TO_RGB.to(x), x)


# The largest alpha any method is asked to honour. The paper's sweeps need 250 (0.04 px made 10 px)
# and Oh et al.'s training draws up to 100; at 1000 the 8-bit quantisation noise of the input
# (1/255 of a grey level reads as motion of hundredths of a pixel) is itself magnified to pixels,
# and every method's small-motion model (the linear method's alpha d < lambda / 8, phase shifts
# within +-pi, FlowMag's trained range 16 repeated) has long stopped holding. A method whose
# own limit is lower declares it as ``Magnifier.max_alpha``.
MAX_ALPHA = 1000.0


def check_alpha(alpha: float, max_alpha: float = MAX_ALPHA, method: str | None = None) -> float:
    """``alpha`` as a float, or a one-line :class:`MotionmagError` unless it is finite, > 0 and at most ``max_alpha``.

    alpha is output motion / input motion: 0 < alpha < 1 attenuates, 1 is the identity; alpha <= 0
    (freezing or reversing motion) is not something any method here does.
    """
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise MotionmagError(f"alpha must be a number, got {alpha!r}") from None
    if not math.isfinite(alpha) or alpha <= 0:
        raise MotionmagError(f"alpha must be a finite number > 0 (1 is the identity), got {alpha:g}")
    if alpha > max_alpha:
        which = f" for {method}" if method else ""
        raise MotionmagError(f"alpha must be at most {max_alpha:g}{which} (beyond, the magnified noise swamps any motion), got {alpha:g}")
    return alpha


def frame_to_tensor(frame: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 or float [0, 1] -> (1, 3, H, W) float32 in [0, 1] on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(frame)).to(device)
    t = t.float() / 255.0 if frame.dtype == np.uint8 else t.float()
    return t.permute(2, 0, 1).unsqueeze(0)


def tensor_to_frame(t: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) with the dtype of ``like`` (uint8 rounded, or float32)."""
    t = t.clamp(0.0, 1.0)[0].permute(1, 2, 0)
    if like.dtype == np.uint8:
        return t.mul(255.0).round().to("cpu", torch.uint8).numpy()
    return t.to("cpu", torch.float32).numpy()


class Magnifier(ABC):
    """``magnify(frames, alpha, mask=None)``: frames in, magnified frames out, one at a time.

    Frames are (H, W, 3) RGB arrays, uint8 or float32 in [0, 1]; outputs have the input's dtype.
    Memory is bounded by the method's temporal window, never by the video's length.
    ``mask`` (H, W) in [0, 1] limits magnification: out = mask * magnified + (1 - mask) * input.
    """

    name: str = ""
    composite: bool = True  # blend the output with the input through the mask (see magnify)
    max_alpha: float = MAX_ALPHA  # the largest alpha this method honours (check_alpha)

    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)

    @abstractmethod
    def _magnify_tensors(self, frames: Iterator[torch.Tensor], alpha: float,
                         mask: torch.Tensor | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (input, magnified) pairs of (1, 3, H, W) tensors, in input order. ``mask``
        (1, 1, H, W) is for methods that use it themselves; the blend below applies to every method."""

    @torch.no_grad()
    def magnify(self, frames: Iterable[np.ndarray], alpha: float, mask: np.ndarray | None = None) -> Iterator[np.ndarray]:
        alpha = check_alpha(alpha, self.max_alpha, self.name or None)
        frames = iter(frames)
        first = next(frames, None)
        if first is None:
            return
        like = first
        mask_t = None if mask is None else torch.from_numpy(np.asarray(mask, np.float32)).to(self.device)[None, None]
        if mask_t is not None and mask_t.shape[-2:] != first.shape[:2]:
            raise MotionmagError(f"mask is {tuple(mask_t.shape[-2:])} but frames are {first.shape[:2]} (height, width)")

        def tensors():
            yield frame_to_tensor(first, self.device)
            for frame in frames:
                yield frame_to_tensor(frame, self.device)

        for original, magnified in self._magnify_tensors(tensors(), alpha, mask_t):
            if mask_t is not None and self.composite:
                magnified = mask_t * magnified + (1 - mask_t) * original
            yield tensor_to_frame(magnified, like)


class EulerianMagnifier(Magnifier):
    """What the linear and phase-based methods share: a mode and its temporal filter.

    ``mode="static"`` compares every frame with frame 0; ``mode="temporal"`` band-passes over time
    with ``filter`` (``iir``, ``diff-iir``, ``butter`` or ``fir``) between ``band`` = (low, high) Hz at ``fps``.
    """

    def __init__(self, mode="static", band=None, fps=None, filter="iir", taps=None, device="cpu"):
        super().__init__(device)
        if mode not in ("static", "temporal"):
            raise MotionmagError(f"{self.name} magnification has modes static and temporal, not {mode!r}")
        self.filter_kind = "static" if mode == "static" else filter
        self.band, self.fps, self.taps = band, fps, taps
        self.new_filter()  # fail on a bad band before any frame is read

    def new_filter(self):
        from motionmag.methods.filters import make_filter

        return make_filter(self.filter_kind, self.band, self.fps, self.taps)
