"""``analyze``: one streaming pass over a clip -> per-region motion, spectra, peaks, bands, a map.

Nothing but the current frame (and frame 0's filter responses) is held: per frame the estimator
adds one (x, y) sample per region to small time series, and one coarse displacement field to the
amplitude map's fixed-size ring buffer. Spectra, peaks and bands come at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from motionmag.errors import MotionmagError
from motionmag.io.video import check_fps
from motionmag.analysis.amplitude_map import StreamingWelchMap, map_grid
from motionmag.analysis.bands import Band, check_band, suggest_band
from motionmag.analysis.estimators import make_estimator
from motionmag.analysis.frames import luma, to_rgb, to_uint8_rgb
from motionmag.analysis.regions import DEFAULT_GRID, Region, resolve_regions
from motionmag.analysis.spectrum import MIN_AMPLITUDE, MIN_SEGMENT, Peak, Spectrum, find_peaks, segment_length, too_few_frames, welch_spectrum
from motionmag.analysis.stabilizer import check_model, stabilize_frames

MIN_SIZE = 8  # px: the smallest frame side measured


@dataclass
class RegionAnalysis:
    region: Region
    series: np.ndarray  # (T, 2) displacement from frame 0, x and y, px
    spectrum: Spectrum
    peaks: list[Peak]
    band: Band | None  # suggested from this region's spectrum
    band_amplitude: float  # px: amplitude of the motion in the analysis band (Analysis.map_band)

    def to_dict(self) -> dict:
        return {
            **self.region.to_dict(),
            "rms_px": float(np.sqrt(((self.series - self.series.mean(0)) ** 2).sum(1).mean())),
            "direction_deg": round(self.spectrum.direction, 1),
            "peaks": [p.to_dict() for p in self.peaks],
            "suggested_band_hz": _band_list(self.band),
            "band_amplitude_px": round(self.band_amplitude, 5),
        }


@dataclass
class Stabilization:
    model: str
    region: Region | None
    transforms: np.ndarray  # (T, 3, 3): frame 0's pixel coordinates -> frame t's
    shifts: np.ndarray  # (T, 2): camera motion removed at the still region's centre, px
    spectrum: Spectrum | None = None
    peaks: list[Peak] = field(default_factory=list)

    def to_dict(self) -> dict:
        s = self.shifts
        return {
            "model": self.model,
            "region": self.region.to_dict() if self.region is not None else "whole frame",
            "rms_px": float(np.sqrt(((s - s.mean(0)) ** 2).sum(1).mean())),
            "max_px": float(np.hypot(*s.T).max()),
            "peaks": [p.to_dict() for p in self.peaks],
        }


@dataclass
class Analysis:
    fps: float
    num_frames: int
    width: int
    height: int
    estimator: dict
    nperseg: int
    regions: list[RegionAnalysis]
    band: Band | None  # the overall suggested band
    given_band: Band | None
    map_band: Band  # the band of the amplitude map and of the regions' band amplitudes
    amplitude_map: np.ndarray  # (rows, cols) px; NaN where the texture is too weak to measure
    map_cell: int  # px per map cell
    first_frame: np.ndarray  # (H, W, 3) uint8, for the plots
    stabilization: Stabilization | None = None
    seconds: float = 0.0

    @property
    def resolution(self) -> float:
        return self.fps / self.nperseg

    @property
    def nyquist(self) -> float:
        return 0.5 * self.fps

    def region(self, name: str) -> RegionAnalysis:
        for r in self.regions:
            if r.region.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "fps": self.fps,
            "frames": self.num_frames,
            "size": [self.width, self.height],
            "estimator": self.estimator,
            "displacement_reference": "frame 0",
            "spectrum": {
                "method": "Welch, Hann window, 50 % overlap, linear detrend",
                "nperseg": self.nperseg,
                "resolution_hz": self.resolution,
                "nyquist_hz": self.nyquist,
                "segments": self.regions[0].spectrum.segments if self.regions else 0,
            },
            "suggested_band_hz": _band_list(self.band),
            "given_band_hz": _band_list(self.given_band),
            "map": {
                "band_hz": _band_list(self.map_band),
                "cell_px": self.map_cell,
                "shape": list(self.amplitude_map.shape),
                "max_px": _finite_max(self.amplitude_map),
            },
            "regions": [r.to_dict() for r in self.regions],
            "stabilization": self.stabilization.to_dict() if self.stabilization else None,
            "seconds": round(self.seconds, 2),
        }


def _band_list(band):
    return None if band is None else [round(float(band[0]), 4), round(float(band[1]), 4)]


def _finite_max(a: np.ndarray):
    finite = a[np.isfinite(a)]
    return float(finite.max()) if finite.size else None


def _length(frames, num_frames: int | None) -> int | None:
    if num_frames is not None:
        return int(num_frames)
    try:
        return len(frames)
    except TypeError:
        return None


def analyze(
    frames: Iterable[np.ndarray],
    fps: float,
    regions=None,
    *,
    estimator="phase",
    band=None,
    resolution: float | None = None,
    stabilize: str | None = None,
    still_region=None,
    grid: tuple[int, int] = DEFAULT_GRID,
    map_cells: int = 64,
    max_peaks: int = 3,
    min_snr: float = 10.0,
    min_amplitude: float = MIN_AMPLITUDE,
    num_frames: int | None = None,
    device: str = "cpu",
    estimator_options: dict | None = None,
    progress: bool = False,
) -> Analysis:
    """Measure motion per region over a clip, streaming, and summarise it.

    Args:
        frames: an iterable of (H, W, 3) RGB or (H, W) grey frames, uint8 or float in [0, 1]
            (a :func:`motionmag.io.open_video` reader, a generator, a list). Consumed once.
        fps: frames per second.
        regions: None (a ``grid`` of rectangles), or a list of regions: ``"x,y,w,h"`` strings,
            (x, y, w, h) tuples, mask files, mask arrays or :class:`Region` objects.
        estimator: ``"phase"`` (default) or a flow-zoo model name (``"dis"``, ``"lk-normalized"``,
            ``"raft-things"``, ...); ``estimator_options`` go to it, ``device`` to a flow model.
        band: (low, high) Hz for the amplitude map and band amplitudes; None: the suggested one.
        resolution: the frequency resolution to reach, Hz (needs fps / resolution frames);
            None: the finest the clip allows, up to 512-frame segments.
        stabilize: None, or a model (``"translation"``, ``"affine"``, ``"homography"``) to remove
            the camera's motion first, fitted on ``still_region`` (None: the whole frame).
        grid: (rows, cols) of the default regions.
        map_cells: cells of the amplitude map along the frame's long side (each at least 4 px).
        num_frames: the clip's length when ``frames`` has no len() (sets the default resolution).
        max_peaks, min_snr, min_amplitude: which peaks are reported (:func:`find_peaks`).
        progress: show a tqdm progress bar.
    """
    started = time.perf_counter()
    fps = float(check_fps(fps))
    given_band = None if band is None else check_band(band, fps)
    if stabilize is not None:
        check_model(stabilize)
    expected = _length(frames, num_frames)
    nperseg = segment_length(fps, expected, resolution)
    est = make_estimator(estimator, device, **(estimator_options or {}))

    from tqdm import tqdm

    source = tqdm(frames, total=expected, disable=not progress, unit="frame", desc="analyse")
    first: dict = {}
    stream: Iterator[np.ndarray] = _prepared(source, est.color, first)
    stabilizer = None
    if stabilize is not None:
        stabilizer = stabilize_frames(stream, still_region, stabilize)
        stream = stabilizer
    try:
        frame0 = next(stream)
    except StopIteration:
        raise MotionmagError("the clip has no frames") from None
    height, width = frame0.shape[:2]
    region_list = resolve_regions(regions, width, height, grid)
    cell, map_shape = map_grid(width, height, map_cells)
    est.start(frame0, region_list, map_shape)
    amplitude_map = StreamingWelchMap(map_shape, fps, nperseg)
    amplitude_map.push(np.zeros((2,) + map_shape, np.float32))
    series = _Growing((len(region_list), 2))
    series.append(np.zeros((len(region_list), 2)))
    for frame in stream:
        displacement, cells = est.measure(frame)
        series.append(displacement)
        amplitude_map.push(cells)
    source.close()
    count = len(series)
    if resolution is not None and count < nperseg:
        raise MotionmagError(too_few_frames(fps, float(resolution), nperseg, count))
    if count < MIN_SEGMENT:
        raise MotionmagError(f"a spectrum needs at least {MIN_SEGMENT} frames, the clip has {count}")
    nperseg = min(nperseg, count)
    amplitude_map.finish()
    series = series.array()  # (T, R, 2)

    results = []
    for i, region in enumerate(region_list):
        spectrum = welch_spectrum(series[:, i], fps, nperseg)
        results.append(
            RegionAnalysis(region, series[:, i], spectrum, find_peaks(spectrum, max_peaks, min_snr, min_amplitude), suggest_band(spectrum, min_snr, min_amplitude), 0.0)
        )
    overall = suggest_band([r.spectrum for r in results], min_snr, min_amplitude)
    df = fps / nperseg
    map_band = given_band or overall or (2 * df, 0.5 * fps)
    for r in results:
        r.band_amplitude = r.spectrum.band_amplitude(map_band)
    amplitude = amplitude_map.amplitude(map_band)
    amplitude[~est.valid_cells()] = np.nan

    stabilization = None
    if stabilizer is not None:
        shifts = stabilizer.shifts
        spectrum = welch_spectrum(shifts, fps, nperseg)
        stabilization = Stabilization(
            stabilize, stabilizer.region, np.stack(stabilizer.transforms), shifts, spectrum, find_peaks(spectrum, max_peaks, min_snr, min_amplitude)
        )
    return Analysis(
        fps=fps,
        num_frames=count,
        width=width,
        height=height,
        estimator=est.describe() if hasattr(est, "describe") else {"name": getattr(est, "name", str(est))},
        nperseg=nperseg,
        regions=results,
        band=overall,
        given_band=given_band,
        map_band=tuple(float(v) for v in map_band),
        amplitude_map=amplitude,
        map_cell=cell,
        first_frame=first["rgb"],
        stabilization=stabilization,
        seconds=time.perf_counter() - started,
    )


class _Growing:
    """Rows of a fixed shape appended one at a time into a float64 array that doubles when full."""

    def __init__(self, shape: tuple[int, ...]):
        self.data = np.zeros((64,) + tuple(shape))
        self.count = 0

    def append(self, row: np.ndarray) -> None:
        if self.count == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.data[self.count] = row
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def array(self) -> np.ndarray:
        return self.data[: self.count].copy()


def _prepared(frames: Iterable[np.ndarray], color: bool, first: dict) -> Iterator[np.ndarray]:
    """Frames as float32 luma (or RGB for flow models), checked for a constant size; frame 0 is
    also kept as uint8 RGB for the plots."""
    size = None
    for index, frame in enumerate(frames):
        frame = np.asarray(frame)
        if size is None:
            size = frame.shape[:2]
            if min(size) < MIN_SIZE:
                raise MotionmagError(f"frames must be at least {MIN_SIZE}x{MIN_SIZE} px to measure motion, got {size[1]}x{size[0]}")
            first["rgb"] = to_uint8_rgb(frame)
        elif frame.shape[:2] != size:
            raise MotionmagError(f"frame {index} is {frame.shape[1]}x{frame.shape[0]}, frame 0 was {size[1]}x{size[0]}")
        yield to_rgb(frame) if color else luma(frame)
