"""Spectra of displacement series: Welch's method, its frequency resolution, and peaks in pixels.

Frequency resolution. Welch's method cuts the series into segments of ``nperseg`` frames
(half-overlapping, Hann-windowed, linear trend removed) and averages their periodograms; its bins
are ``fps / nperseg`` Hz apart, the resolution. Asking for a resolution ``r`` Hz sets
``nperseg = ceil(fps / r)`` and needs at least that many frames; by default ``nperseg`` is the
whole clip up to :data:`MAX_SEGMENT` frames (the finest resolution the clip allows, then
averaging for longer clips), so a 10 s clip at 30 fps is resolved to 0.1 Hz.

Amplitudes are in pixels, as the amplitude A of a sinusoid ``A sin(2 pi f t)``: the power of a
peak is the density integrated over its lobe (which removes the window's scalloping loss, up to
15 % for a Hann window between bins), less the noise floor, and ``A = sqrt(2 * power)``. The
amplitude spectrum plotted is ``sqrt(2 * PSD * ENBW)``: a sinusoid centred on a bin reads its
amplitude at the peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from motionmag.errors import MotionmagError

MAX_SEGMENT = 512  # default cap on nperseg: the per-cell amplitude map keeps this many frames
MIN_SEGMENT = 8
WINDOW = "hann"
DETREND = "linear"
LOBE = 3  # bins each side of a peak integrated into its amplitude (Hann: > 99.9 % of a tone)
EXCLUSION = 6  # bins around a peak where a weaker one must stand out from its leakage
COMPONENTS = ("x", "y", "dominant", "total")
MIN_AMPLITUDE = 0.01  # px: smaller peaks are within the estimators' error (docs/analysis.md)


def segment_length(fps: float, num_frames: int | None = None, resolution: float | None = None) -> int:
    """Welch's ``nperseg`` for a frame rate, a clip length (None: unknown yet) and an asked
    resolution in Hz (None: the finest the clip allows, capped at :data:`MAX_SEGMENT` frames)."""
    if resolution is None:
        if num_frames is not None and num_frames < MIN_SEGMENT:
            raise MotionmagError(f"a spectrum needs at least {MIN_SEGMENT} frames, the clip has {num_frames}")
        return MAX_SEGMENT if num_frames is None else min(num_frames, MAX_SEGMENT)
    try:
        resolution = float(resolution)
    except (TypeError, ValueError):
        raise MotionmagError(f"the frequency resolution must be a number of Hz, got {resolution!r}") from None
    if not math.isfinite(resolution) or resolution <= 0:
        raise MotionmagError(f"the frequency resolution must be a finite number of Hz > 0, got {resolution:g}")
    nperseg = math.ceil(fps / resolution - 1e-9)
    if nperseg < MIN_SEGMENT:
        raise MotionmagError(
            f"a {resolution:g} Hz resolution at {fps:g} fps leaves {nperseg}-frame segments; ask for at most {fps / MIN_SEGMENT:g} Hz"
        )
    if num_frames is not None and num_frames < nperseg:
        raise MotionmagError(too_few_frames(fps, resolution, nperseg, num_frames))
    return nperseg


def too_few_frames(fps: float, resolution: float, nperseg: int, num_frames: int) -> str:
    return (
        f"a {resolution:g} Hz frequency resolution needs at least {nperseg} frames at {fps:g} fps (fps / resolution), "
        f"the clip has {num_frames} (its finest is {fps / max(num_frames, 1):.3g} Hz)"
    )


def hann(n: int) -> np.ndarray:
    return signal.get_window(WINDOW, n).astype(np.float64)


@dataclass
class Spectrum:
    """Welch power spectral densities (px²/Hz) of an (x, y) displacement series, and their cross."""

    freqs: np.ndarray
    pxx: np.ndarray
    pyy: np.ndarray
    pxy: np.ndarray  # cross spectral density of x and y (complex)
    fps: float
    nperseg: int
    segments: int

    @property
    def resolution(self) -> float:
        """Bin spacing in Hz: fps / nperseg."""
        return self.fps / self.nperseg

    @property
    def nyquist(self) -> float:
        return 0.5 * self.fps

    @property
    def enbw(self) -> float:
        """Equivalent noise bandwidth of the window, in Hz (1.5 bins for Hann)."""
        w = hann(self.nperseg)
        return self.fps * float((w * w).sum() / w.sum() ** 2)

    @property
    def direction(self) -> float:
        """Dominant direction of motion in degrees in [0, 180) (0 = +x, 90 = +y, down), from the
        cross-spectral matrix summed over every bin from 2 up (the trend and DC left out)."""
        sl = slice(2, None)
        return _axis_angle(self.pxx[sl].sum(), self.pyy[sl].sum(), self.pxy[sl].real.sum())

    def psd(self, component: str = "total") -> np.ndarray:
        if component == "x":
            return self.pxx
        if component == "y":
            return self.pyy
        if component == "total":
            return self.pxx + self.pyy
        if component == "dominant":
            a = math.radians(self.direction)
            c, s = math.cos(a), math.sin(a)
            return np.maximum(c * c * self.pxx + s * s * self.pyy + 2 * c * s * self.pxy.real, 0.0)
        raise MotionmagError(f"unknown spectrum component {component!r}; choose one of {', '.join(COMPONENTS)}")

    def amplitude(self, component: str = "total") -> np.ndarray:
        """Amplitude spectrum in px: a sinusoid centred on a bin reads its amplitude at the peak."""
        return np.sqrt(2.0 * self.psd(component) * self.enbw)

    def noise_floor(self, component: str = "total") -> float:
        """Median density over the bins from 2 up (px²/Hz): the level a peak must stand above."""
        return float(np.median(self.psd(component)[2:])) if len(self.freqs) > 2 else 0.0

    def band_amplitude(self, band: tuple[float, float], component: str = "total") -> float:
        """Amplitude (px) of a sinusoid with the power the band holds: sqrt(2 * sum of density * df)."""
        lo, hi = band
        inside = (self.freqs >= lo) & (self.freqs <= hi)
        return float(math.sqrt(2.0 * self.psd(component)[inside].sum() * self.resolution))

    def to_dict(self) -> dict:
        return {
            "resolution_hz": self.resolution,
            "nperseg": self.nperseg,
            "segments": self.segments,
            "direction_deg": self.direction,
            "noise_floor_px2_per_hz": self.noise_floor(),
        }


def _axis_angle(sxx: float, syy: float, sxy: float) -> float:
    return float(math.degrees(0.5 * math.atan2(2.0 * sxy, sxx - syy)) % 180.0)


def welch_spectrum(series: np.ndarray, fps: float, nperseg: int) -> Spectrum:
    """Welch spectra of a (T, 2) displacement series (x, y in px): Hann, half overlap, linear detrend."""
    series = np.asarray(series, np.float64)
    n = len(series)
    if n < MIN_SEGMENT:
        raise MotionmagError(f"a spectrum needs at least {MIN_SEGMENT} frames, the clip has {n}")
    nperseg = min(int(nperseg), n)
    options = dict(fs=float(fps), window=WINDOW, nperseg=nperseg, noverlap=nperseg // 2, detrend=DETREND, scaling="density")
    freqs, pxx = signal.welch(series[:, 0], **options)
    _, pyy = signal.welch(series[:, 1], **options)
    _, pxy = signal.csd(series[:, 0], series[:, 1], **options)
    segments = 1 + (n - nperseg) // (nperseg - nperseg // 2)
    return Spectrum(freqs, pxx, pyy, pxy, float(fps), nperseg, segments)


@dataclass
class Peak:
    frequency: float  # Hz, refined between bins (parabola through the log density)
    amplitude: float  # px, of the equivalent sinusoid
    direction: float  # degrees in [0, 180): 0 = +x, 90 = +y (down)
    snr: float  # peak density over the noise floor
    bin: int

    def to_dict(self) -> dict:
        return {
            "frequency_hz": round(self.frequency, 4),
            "amplitude_px": round(self.amplitude, 5),
            "direction_deg": round(self.direction, 1),
            "snr": round(self.snr, 1),
            "bin": self.bin,
        }


def find_peaks(
    spectrum: Spectrum, max_peaks: int = 3, min_snr: float = 10.0, min_amplitude: float = MIN_AMPLITUDE, component: str = "total"
) -> list[Peak]:
    """The strongest spectral peaks, strongest first.

    A peak is a local maximum at bin 2 or above (bins 0 and 1 hold the DC and trend leakage)
    whose density is at least ``min_snr`` times the noise floor (the median density) and whose
    amplitude is at least ``min_amplitude`` px (below that, the estimators' own error on a
    perfectly still scene would pass for motion). Within :data:`EXCLUSION` bins of a stronger
    peak, a weaker one must also hold 1 % of its density and be separated from it by a dip, so a
    window's side lobes are not read as peaks.
    """
    psd = spectrum.psd(component)
    floor = max(spectrum.noise_floor(component), 1e-300)
    candidates = [k for k in range(2, len(psd) - 1) if psd[k] >= psd[k - 1] and psd[k] > psd[k + 1] and psd[k] >= min_snr * floor]
    candidates.sort(key=lambda k: -psd[k])
    accepted: list[int] = []
    peaks: list[Peak] = []
    for k in candidates:
        if len(accepted) >= max_peaks:
            break
        if any(abs(k - p) <= EXCLUSION and (psd[k] < 0.01 * psd[p] or psd[min(k, p) : max(k, p) + 1].min() > 0.5 * psd[k]) for p in accepted):
            continue
        peak = _peak(spectrum, k, floor, component)
        if peak.amplitude < min_amplitude:
            continue
        accepted.append(k)
        peaks.append(peak)
    return peaks


def _peak(spectrum: Spectrum, k: int, floor: float, component: str) -> Peak:
    psd = spectrum.psd(component)
    lo, hi = _lobe(psd, k)
    power = max(float((psd[lo : hi + 1] - floor).sum()) * spectrum.resolution, 0.0)
    l, c, r = (math.log(max(v, 1e-300)) for v in psd[k - 1 : k + 2])
    denom = l - 2 * c + r
    offset = 0.5 * (l - r) / denom if denom < 0 else 0.0
    sl = slice(lo, hi + 1)
    direction = _axis_angle(spectrum.pxx[sl].sum(), spectrum.pyy[sl].sum(), spectrum.pxy[sl].real.sum())
    return Peak(
        frequency=float(spectrum.freqs[k] + np.clip(offset, -0.5, 0.5) * spectrum.resolution),
        amplitude=math.sqrt(2.0 * power),
        direction=direction,
        snr=float(psd[k] / floor),
        bin=int(k),
    )


def _lobe(psd: np.ndarray, k: int) -> tuple[int, int]:
    """Bins of the lobe around peak k: up to :data:`LOBE` each side, stopping where it rises again."""
    lo = k
    while lo > max(k - LOBE, 1) and psd[lo - 1] <= psd[lo]:
        lo -= 1
    hi = k
    while hi < min(k + LOBE, len(psd) - 1) and psd[hi + 1] <= psd[hi]:
        hi += 1
    return lo, hi
