"""Frequency bands: checking a given one, suggesting one from spectra.

The band rule (:func:`suggest_band`): take the strongest peak of the total spectrum (x and y
densities summed, so the direction of motion does not matter); extend it over the bins on each
flank whose amplitude stays at or above half the peak's (-6 dB; for a Hann window that is one bin
each side of a pure tone's peak) and keeps falling (a flank that rises again, into drift or
another peak, stops there); widen that by one resolution bin on each side; clip to
(resolution / 2, Nyquist - resolution / 2), inside the open interval (0, Nyquist) that a temporal
band-pass filter accepts. Several spectra (the overall band) are averaged first, each region
counting equally, so the overall band sits on the motion that most of the frame shares.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from motionmag.errors import MotionmagError
from motionmag.analysis.spectrum import MIN_AMPLITUDE, Spectrum, find_peaks

Band = tuple[float, float]


def check_band(band, fps: float) -> Band:
    """A (low, high) band in Hz as floats, or a one-line error: numbers, 0 <= low < high <= Nyquist."""
    if isinstance(band, str):
        parts = band.replace("-", ",", 1).split(",") if "," not in band else band.split(",")
        band = parts
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise MotionmagError(f"a band is two frequencies low,high in Hz (e.g. 0.4,3), got {band!r}") from None
    nyquist = 0.5 * float(fps)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi <= lo:
        raise MotionmagError(f"a band needs 0 <= low < high (Hz), got {lo:g}-{hi:g}")
    if hi > nyquist:
        raise MotionmagError(
            f"the band {lo:g}-{hi:g} Hz reaches above the Nyquist frequency, {nyquist:g} Hz at {float(fps):g} fps: nothing above it can be measured"
        )
    return lo, hi


def mean_spectrum(spectra: Sequence[Spectrum]) -> Spectrum:
    """The average of spectra sharing one frequency grid (each region counts equally)."""
    first = spectra[0]
    if any(len(s.freqs) != len(first.freqs) or s.nperseg != first.nperseg for s in spectra):
        raise MotionmagError("spectra on different frequency grids cannot be averaged")
    mean = lambda name: np.mean([getattr(s, name) for s in spectra], axis=0)  # noqa: E731
    return Spectrum(first.freqs, mean("pxx"), mean("pyy"), mean("pxy"), first.fps, first.nperseg, first.segments)


def suggest_band(spectra: Spectrum | Sequence[Spectrum], min_snr: float = 10.0, min_amplitude: float = MIN_AMPLITUDE) -> Band | None:
    """The band around the strongest peak (rule in the module docstring), or None without a peak.

    ``spectra``: one region's spectrum, or several (averaged, for the overall band).
    """
    spectrum = spectra if isinstance(spectra, Spectrum) else mean_spectrum(list(spectra))
    peaks = find_peaks(spectrum, max_peaks=1, min_snr=min_snr, min_amplitude=min_amplitude)
    if not peaks:
        return None
    return band_around(spectrum, peaks[0].bin)


def band_around(spectrum: Spectrum, k: int) -> Band:
    """The half-amplitude extent of the peak at bin k, widened by a bin each side, clipped."""
    amplitude = spectrum.amplitude("total")
    half = 0.5 * amplitude[k] * (1 - 1e-6)  # a pure tone's neighbours sit at exactly half
    lo = k  # walk down each flank while it stays at or above half and keeps falling
    while lo > 1 and half <= amplitude[lo - 1] <= amplitude[lo]:
        lo -= 1
    hi = k
    while hi < len(amplitude) - 1 and half <= amplitude[hi + 1] <= amplitude[hi]:
        hi += 1
    df = spectrum.resolution
    low = max(spectrum.freqs[lo] - df, 0.5 * df)
    high = min(spectrum.freqs[hi] + df, spectrum.nyquist - 0.5 * df)
    return float(low), float(high)
