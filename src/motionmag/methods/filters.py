"""Streaming temporal filters over lists of tensors (one list per frame, e.g. pyramid levels).

Each filter is fed one frame at a time with ``step`` and returns the filtered signal of the frame
``delay`` frames earlier (or None while it fills up); ``flush`` returns the rest at the end.
Memory is bounded by the filter's length, never by the video's.

- ``ReferenceFilter`` ("static" mode): x(t) - x(0), a two-frame magnification against frame 0.
- ``IIRFilter``: any (b, a) recursive filter, causal, delay 0. ``iir`` is Wu et al.'s difference
  of two first-order low-passes with cut-offs in Hz; ``diff-iir`` is the same filter given by its
  two coefficients (r_low, r_high), as Oh et al.'s ``differenceOfIIR`` takes it; ``butter`` is a
  Butterworth band-pass (scipy's design).
- ``FIRFilter`` (``fir``, also called ``ideal``): a zero-phase windowed-sinc band-pass with (taps - 1) / 2 frames of
  look-ahead, edges padded by repeating the first and last frame. It approximates Wu et al.'s
  ideal (whole-clip FFT) filter without holding the whole clip.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Iterator, Sequence

import numpy as np
import torch

from motionmag.errors import MotionmagError

Signal = list[torch.Tensor]
FILTERS = ("static", "iir", "diff-iir", "butter", "fir", "ideal")


class IdentityFilter:
    """For signals that are already differences from frame 0 (phase changes): static mode as is."""

    delay = 0

    def step(self, x: Signal) -> Signal:
        return x

    def flush(self) -> Iterator[Signal]:
        return iter(())


class ReferenceFilter:
    delay = 0

    def __init__(self):
        self.reference: Signal | None = None

    def step(self, x: Signal) -> Signal:
        if self.reference is None:
            self.reference = [t.clone() for t in x]
        return [t - r for t, r in zip(x, self.reference)]

    def flush(self) -> Iterator[Signal]:
        return iter(())


class IIRFilter:
    """Direct form II transposed; the state starts at the steady state of the first frame, so a
    band-pass gives 0 on a still video instead of a start-up transient."""

    delay = 0

    def __init__(self, b: Sequence[float], a: Sequence[float]):
        b, a = np.asarray(b, np.float64), np.asarray(a, np.float64)
        n = max(len(a), len(b))
        self.b = np.pad(b, (0, n - len(b))) / a[0]
        self.a = np.pad(a, (0, n - len(a))) / a[0]
        from scipy import signal  # imported on use: scipy.signal costs every job that imports the methods a second

        self.zi = signal.lfilter_zi(self.b, self.a) if n > 1 else np.zeros(0)
        self.state: list[list[torch.Tensor]] | None = None

    def step(self, x: Signal) -> Signal:
        b, a = self.b, self.a
        if self.state is None:
            self.state = [[float(z) * t for z in self.zi] for t in x]
        out = []
        for t, z in zip(x, self.state):
            y = b[0] * t + (z[0] if len(z) else 0)
            for i in range(len(z)):
                z[i] = b[i + 1] * t - a[i + 1] * y + (z[i + 1] if i + 1 < len(z) else 0)
            out.append(y)
        return out

    def flush(self) -> Iterator[Signal]:
        return iter(())


class FIRFilter:
    def __init__(self, taps: Sequence[float]):
        self.taps = np.asarray(taps, np.float64)
        if len(self.taps) % 2 == 0:
            raise MotionmagError("an FIR filter needs an odd number of taps")
        self.delay = (len(self.taps) - 1) // 2
        self.window: deque[Signal] = deque(maxlen=len(self.taps))

    def _output(self) -> Signal:
        # y(t) = sum_k h[k] x(t + delay - k): the window holds x(t - delay) ... x(t + delay)
        out = None
        for h, x in zip(self.taps[::-1], self.window):
            out = [h * t for t in x] if out is None else [o + h * t for o, t in zip(out, x)]
        return out

    def step(self, x: Signal) -> Signal | None:
        if not self.window:
            self.window.extend([x] * self.delay)  # repeat the first frame before the start
            self.pushed = self.emitted = 0
        self.window.append(x)
        self.pushed += 1
        if len(self.window) < self.window.maxlen:
            return None
        self.emitted += 1
        return self._output()

    def flush(self) -> Iterator[Signal]:
        while self.window and self.emitted < self.pushed:
            self.window.append(self.window[-1])  # repeat the last frame after the end
            if len(self.window) == self.window.maxlen:
                self.emitted += 1
                yield self._output()


def wu_iir_coefficients(low: float, high: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Wu et al.'s band-pass: lowpass(r_high) - lowpass(r_low), each y = r x + (1 - r) y[-1].

    r = 1 - exp(-2 pi f / fps) puts each first-order low-pass's -3 dB point near f.
    """
    rh, rl = (1 - math.exp(-2 * math.pi * f / fps) for f in (high, low))
    # rh / (1 - (1-rh) z^-1) - rl / (1 - (1-rl) z^-1) over a common denominator
    b = np.array([rh - rl, -(rh * (1 - rl)) + rl * (1 - rh)])
    a = np.convolve([1, -(1 - rh)], [1, -(1 - rl)])
    return b, a


def diff_iir_coefficients(r_low: float, r_high: float) -> tuple[np.ndarray, np.ndarray]:
    """Oh et al.'s ``differenceOfIIR`` (Wadhwa's filter) from its coefficients, 0 < r_low < r_high < 1."""
    return np.array([r_high - r_low, r_low - r_high]), np.array([1.0, -(2 - r_high - r_low), (1 - r_low) * (1 - r_high)])


def check_band(band: Sequence[float] | None, fps: float) -> tuple[float, float]:
    if band is None or len(band) != 2:
        raise MotionmagError("temporal mode needs a pass band: --band LOW HIGH (Hz)")
    low, high = map(float, band)
    if not (0 < low < high < fps / 2):
        raise MotionmagError(f"the band must satisfy 0 < low < high < fps/2 = {fps / 2:g} Hz, got {low:g} {high:g}")
    return low, high


def make_filter(kind: str, band: Sequence[float] | None = None, fps: float | None = None, taps: int | None = None, order: int = 1):
    """Build a temporal filter by name: ``static``, ``iir`` (Wu et al.), ``diff-iir`` (the same,
    from its coefficients), ``butter`` or ``fir`` (= ``ideal``). ``band`` is (low, high) in Hz,
    or (r_low, r_high) for ``diff-iir``."""
    if kind == "static":
        return ReferenceFilter()
    if taps is not None and (int(taps) != taps or taps < 3 or taps % 2 == 0):
        raise MotionmagError(f"an FIR filter needs an odd number of taps, at least 3, got {taps}")
    if int(order) != order or order < 1:
        raise MotionmagError(f"the Butterworth order must be a whole number >= 1, got {order}")
    if kind not in FILTERS:
        raise MotionmagError(f"unknown temporal filter {kind!r}; choose one of {', '.join(FILTERS)}")
    if kind == "diff-iir":
        if band is None or len(band) != 2 or not (0 < float(band[0]) < float(band[1]) < 1):
            raise MotionmagError(f"diff-iir takes two coefficients 0 < r_low < r_high < 1 as --band, got {band}")
        return IIRFilter(*diff_iir_coefficients(float(band[0]), float(band[1])))
    if not fps or fps <= 0:
        raise MotionmagError("a temporal filter needs the frame rate")
    low, high = check_band(band, fps)
    from scipy import signal  # imported here, as in IIRFilter

    if kind == "iir":
        return IIRFilter(*wu_iir_coefficients(low, high, fps))
    if kind == "butter":
        return IIRFilter(*signal.butter(order, [low, high], btype="bandpass", fs=fps))
    # "fir" / "ideal": enough taps for about two periods of the lowest frequency, odd, capped for memory
    n = taps or min(2 * math.ceil(fps / low) + 1, 121)
    n += 1 - n % 2
    taps = signal.firwin(n, [low, high], pass_zero=False, fs=fps, window="hamming")
    # a windowed sinc leaks a little DC (0.6 % here), which alpha would turn into a brightness
    # change of a still scene: remove it exactly, then restore unit gain at the band's centre
    window = signal.get_window("hamming", n)
    taps = taps - taps.sum() * window / window.sum()
    _, response = signal.freqz(taps, worN=[(low + high) / 2], fs=fps)
    return FIRFilter(taps / abs(response[0]))
