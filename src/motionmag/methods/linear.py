"""Linear Eulerian video magnification (Wu et al., SIGGRAPH 2012), streaming.

Each frame (YIQ) is split into a Laplacian pyramid; every level is filtered over time and the
filtered signal, times (alpha - 1), is added back: a small motion d inside the pass band becomes
alpha * d (first-order Taylor argument of the paper, alpha = 1 + Wu's alpha).

The approximation holds while alpha * d < lambda / 8 for the spatial wavelength lambda. As in the
paper, levels whose wavelength lambda_l = 2^(l+2) px is below ``lambda_c`` get a reduced gain
alpha_l = (lambda_l / lambda_c) * alpha - 1 (clamped to [0, alpha - 1]). Unlike Wu et al.'s code we
do not also zero the finest level outright: the lambda_c rule already attenuates it, and zeroing it
made the measured motion of fine textures fall short of alpha even where the method is valid.

Modes: ``static`` magnifies every frame's difference from frame 0 (two-frame magnification,
like FlowMag's and Oh et al.'s static mode); ``temporal`` band-passes with ``filter`` in
(``iir``, ``diff-iir``, ``butter``, ``fir``) between ``band`` = (low, high) Hz.
"""

from __future__ import annotations

from collections import deque
from typing import Iterator, Sequence

import torch

from motionmag.methods.base import EulerianMagnifier, MethodSpec, Option, rgb_to_yiq, yiq_to_rgb
from motionmag.methods.pyramids import build_laplacian, collapse_laplacian, max_levels


class LinearMagnifier(EulerianMagnifier):
    spec = MethodSpec("linear", (
        *EulerianMagnifier.OPTIONS,
        Option("levels", None, int, "Laplacian pyramid levels", minimum=1, default_text="as many as the frame size allows"),
        Option("lambda_c", 16.0, float, "the cut-off wavelength (px): finer levels get a reduced gain (Wu et al.'s lambda_c)"),
        Option("chroma_attenuation", 0.1, float, "gain on chroma (I, Q) relative to luma: 0.1 as in Wu et al.'s motion "
               "examples, 1 amplifies colour as much", minimum=0),
    ))

    def __init__(
        self,
        mode: str = "static",
        band: Sequence[float] | None = None,
        fps: float | None = None,
        filter: str = "iir",
        taps: int | None = None,
        levels: int | None = None,
        lambda_c: float = 16.0,
        chroma_attenuation: float = 0.1,  # Wu et al.'s motion examples: chroma amplified 10x less than luma (no colour speckle)
        device: str | torch.device = "cpu",
    ):
        super().__init__(mode, band, fps, filter, taps, device)
        self.levels, self.lambda_c, self.chroma_attenuation = levels, float(lambda_c), float(chroma_attenuation)

    def level_gains(self, alpha: float, levels: int) -> list[float]:
        """Gain on the band-passed signal per level, fine to coarse (the last is the low-pass residual)."""
        gains = []
        for level in range(levels):
            wavelength = 2.0 ** (level + 2)
            gain = min(alpha - 1.0, max(0.0, wavelength / self.lambda_c * alpha - 1.0))
            gains.append(gain)
        return gains

    def _magnify_tensors(self, frames: Iterator[torch.Tensor], alpha: float, mask=None):
        temporal = self.new_filter()
        pending: deque[torch.Tensor] = deque()  # inputs waiting for the filter's look-ahead
        gains = None
        channel_weight = torch.tensor([1.0, self.chroma_attenuation, self.chroma_attenuation], device=self.device)

        def amplified(original: torch.Tensor, filtered: list[torch.Tensor]):
            bands = [g * b * channel_weight.view(1, 3, 1, 1) for g, b in zip(gains, filtered)]
            return original, yiq_to_rgb(rgb_to_yiq(original) + collapse_laplacian(bands))

        for frame in frames:
            if gains is None:
                levels = self.levels or max_levels(*frame.shape[-2:])
                gains = self.level_gains(alpha, levels)
            pending.append(frame)
            filtered = temporal.step(build_laplacian(rgb_to_yiq(frame), len(gains)))
            if filtered is not None:
                yield amplified(pending.popleft(), filtered)
        for filtered in temporal.flush():
            yield amplified(pending.popleft(), filtered)
