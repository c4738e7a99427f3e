"""Where does it move at f Hz: a per-cell Welch spectrum of displacement, accumulated while streaming.

Each frame brings a (2, rows, cols) displacement field on a coarse grid of cells. The last
``nperseg`` fields sit in a ring buffer; whenever a Welch segment is complete (every
``nperseg - nperseg // 2`` frames, exactly the segments :func:`scipy.signal.welch` uses) it is
detrended, Hann-windowed and transformed, and its density is added to a running sum. Memory is
``cells x 2 x nperseg`` floats for the buffer plus ``cells x (nperseg / 2 + 1)`` for the density,
whatever the length of the clip. At the end, the amplitude in any band is
``sqrt(2 * sum over the band of (Pxx + Pyy) * df)`` per cell: the amplitude in px of the sinusoid
that would carry the band's power, the same measure as a region's band amplitude.

A clip shorter than ``nperseg`` (possible when its length was unknown in advance) is analysed as
one segment of all its frames, as the region spectra are.
"""

from __future__ import annotations

import math

import numpy as np

from motionmag.analysis.spectrum import DETREND, hann

CHUNK = 1 << 14  # floats per block of map rows processed at once (bounds the temporaries)

assert DETREND == "linear"  # _detrend_linear below is what the region spectra do too


class StreamingWelchMap:
    def __init__(self, shape: tuple[int, int], fps: float, nperseg: int):
        self.shape = tuple(shape)
        self.fps = float(fps)
        self.nperseg = int(nperseg)
        self.step = self.nperseg - self.nperseg // 2
        self.buffer = np.zeros((self.nperseg, 2) + self.shape, np.float32)
        self.density = None  # (freqs, rows, cols): summed over segments, x and y added
        self.segments = 0
        self.count = 0

    def push(self, field: np.ndarray) -> None:
        """Add one frame's (2, rows, cols) displacement field."""
        self.buffer[self.count % self.nperseg] = field
        self.count += 1
        if self.count >= self.nperseg and (self.count - self.nperseg) % self.step == 0:
            self._add_segment(np.arange(self.count - self.nperseg, self.count) % self.nperseg)

    def _add_segment(self, order: np.ndarray) -> None:
        """Add the density of the segment held in buffer[order], a few map rows at a time (so the
        temporaries stay a small fraction of the buffer)."""
        n = len(order)
        window = hann(n).astype(np.float32)[:, None, None, None]
        scale = 1.0 / (self.fps * float((window * window).sum()))
        if self.density is None or self.density.shape[0] != n // 2 + 1:
            self.density = np.zeros((n // 2 + 1,) + self.shape, np.float32)
        rows = max(1, CHUNK // (n * 2 * self.shape[1]))
        for r0 in range(0, self.shape[0], rows):
            segment = self.buffer[:, :, r0 : r0 + rows][order]
            spectrum = np.fft.rfft(_detrend_linear(segment) * window, axis=0)
            power = (spectrum.real**2 + spectrum.imag**2).sum(axis=1) * scale
            power[1 : (n + 1) // 2] *= 2.0  # one-sided: every bin but DC (and Nyquist for even n)
            self.density[:, r0 : r0 + rows] += power
        self.segments += 1

    def finish(self) -> None:
        """Close the stream: a clip shorter than one segment becomes one segment of all its frames."""
        if self.segments == 0 and self.count >= 2:
            self.nperseg = self.count
            self._add_segment(np.arange(self.count))
        self.buffer = np.zeros((0, 2) + self.shape, np.float32)  # free it

    @property
    def freqs(self) -> np.ndarray:
        return np.fft.rfftfreq(self.nperseg, 1.0 / self.fps)

    def amplitude(self, band: tuple[float, float]) -> np.ndarray:
        """(rows, cols) amplitude in px of the motion in ``band`` (Hz), from the mean density."""
        if self.density is None:
            return np.full(self.shape, np.nan, np.float32)
        freqs = self.freqs
        inside = (freqs >= band[0]) & (freqs <= band[1])
        df = self.fps / self.nperseg
        power = self.density[inside].sum(axis=0) / self.segments * df
        return np.sqrt(2.0 * power).astype(np.float32)

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes + (0 if self.density is None else self.density.nbytes)


def _detrend_linear(segment: np.ndarray) -> np.ndarray:
    """Remove the least-squares line along axis 0, in float32 (scipy's detrend works in float64)."""
    n = len(segment)
    t = (np.arange(n, dtype=np.float32) - 0.5 * (n - 1)).reshape((n,) + (1,) * (segment.ndim - 1))
    mean = segment.mean(axis=0, dtype=np.float32)
    slope = (segment * t).sum(axis=0, dtype=np.float32) / float((t * t).sum())
    return segment - mean - slope * t


def map_grid(width: int, height: int, cells: int = 64, min_cell: int = 4) -> tuple[int, tuple[int, int]]:
    """The cell size in px and the (rows, cols) of the map: about ``cells`` along the long side."""
    cell = max(min_cell, math.ceil(max(width, height) / cells))
    return cell, (max(1, round(height / cell)), max(1, round(width / cell)))
