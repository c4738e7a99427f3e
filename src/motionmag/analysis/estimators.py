"""Displacement estimators behind one interface: per frame, each region's mean displacement from
frame 0 and a coarse (2, rows, cols) field for the amplitude map, in pixels of the input frames.

- ``"phase"``: local phase of oriented Gabor filters (:mod:`motionmag.analysis.phase`), solved in
  weighted least squares over each region and each map cell. Frames whose long side exceeds
  ``max_size`` are measured at that size (INTER_AREA) and scaled back.
- any name of the flow zoo (:func:`motionmag.flow.list_flow_models`: ``dis``, ``lk``,
  ``lk-normalized``, ``raft-things``, ...): dense flow from frame 0 to frame t, averaged over the
  region (weighted by a mask region's values) and over each map cell.

Displacement is the motion of the content: frame t shows at x + d what frame 0 showed at x.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from motionmag.errors import MotionmagError
from motionmag.analysis.phase import LocalPhase, solve
from motionmag.analysis.regions import Region

PHASE = "phase"
MAP_RIDGE = 0.01  # map cells: ridge, as a fraction of the median cell's texture (trace of S)


class Estimator(Protocol):
    name: str
    color: bool  # takes (H, W, 3) RGB float frames; otherwise (H, W) grey

    def start(self, frame: np.ndarray, regions: list[Region], map_shape: tuple[int, int]) -> None: ...

    def measure(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(regions, 2) and (2, rows, cols) displacements of ``frame`` from the start frame."""
        ...

    def valid_cells(self) -> np.ndarray:
        """(rows, cols) bool: cells with enough texture to be measured."""
        ...


def _cells(images: np.ndarray, map_shape: tuple[int, int]) -> np.ndarray:
    """(C, H, W) -> (C, rows, cols) by area averaging."""
    rows, cols = map_shape
    return np.stack([cv2.resize(im, (cols, rows), interpolation=cv2.INTER_AREA) for im in images])


def _smaller_eigenvalue(normals: np.ndarray) -> np.ndarray:
    """The smaller eigenvalue of each 2x2 [[Sxx, Sxy], [Sxy, Syy]]: texture in the weaker direction."""
    sxx, sxy, syy = normals[0], normals[1], normals[2]
    return 0.5 * (sxx + syy - np.sqrt((sxx - syy) ** 2 + 4 * sxy * sxy))


def _inner_cells(map_shape: tuple[int, int], size: tuple[int, int], margin: float) -> np.ndarray:
    """(rows, cols) bool: cells whose centre lies at least ``margin`` px inside the frame's edge.
    Nearer the edge the filters reach past it (reflected), and content enters and leaves there."""
    rows, cols = map_shape
    ys = (np.arange(rows) + 0.5) * size[0] / rows
    xs = (np.arange(cols) + 0.5) * size[1] / cols
    inside_y = (ys >= margin) & (ys <= size[0] - margin)
    inside_x = (xs >= margin) & (xs <= size[1] - margin)
    if not inside_y.any() or not inside_x.any():
        return np.ones(map_shape, bool)
    return inside_y[:, None] & inside_x[None, :]


class _RegionSums:
    """Weighted sums of (C, H, W) images over regions, in a frame scaled by ``scale``."""

    def __init__(self, regions: list[Region], size: tuple[int, int], scale: float):
        height, width = size
        self.windows = []
        for region in regions:
            x, y, w, h = region.bbox
            x0, y0 = int(np.floor(x * scale)), int(np.floor(y * scale))
            x1 = max(x0 + 1, min(width, int(np.ceil((x + w) * scale))))
            y1 = max(y0 + 1, min(height, int(np.ceil((y + h) * scale))))
            weights = None
            if region.mask is not None:
                weights = region.mask if scale == 1 else cv2.resize(region.mask, (width, height), interpolation=cv2.INTER_AREA)
                weights = weights[y0:y1, x0:x1].astype(np.float32)
                if not (weights > 0).any():
                    raise MotionmagError(f"region {region.name} vanishes at the analysis scale {scale:.3g}")
            self.windows.append((y0, y1, x0, x1, weights))

    def sums(self, images: np.ndarray) -> list[np.ndarray]:
        out = []
        for y0, y1, x0, x1, weights in self.windows:
            crop = images[:, y0:y1, x0:x1]
            out.append(crop.sum(axis=(1, 2), dtype=np.float64) if weights is None else (crop * weights).sum(axis=(1, 2), dtype=np.float64))
        return out

    def means(self, images: np.ndarray) -> np.ndarray:
        totals = [w.sum() if w is not None else (y1 - y0) * (x1 - x0) for y0, y1, x0, x1, w in self.windows]
        return np.stack([s / t for s, t in zip(self.sums(images), totals)])


class PhaseEstimator:
    """Local-phase displacement (see :mod:`motionmag.analysis.phase`)."""

    color = False

    def __init__(self, wavelength: float = 8.0, max_size: int = 1280, texture_floor: float = 0.1):
        self.name = PHASE
        self.wavelength = float(wavelength)
        self.max_size = int(max_size)
        self.texture_floor = texture_floor
        self.phase = LocalPhase(self.wavelength)
        self._valid = None

    def _scaled(self, grey: np.ndarray) -> np.ndarray:
        if self.scale == 1.0:
            return grey
        return cv2.resize(grey, self.work_size[::-1], interpolation=cv2.INTER_AREA)

    def start(self, frame: np.ndarray, regions: list[Region], map_shape: tuple[int, int]) -> None:
        height, width = frame.shape[:2]
        self.scale = min(1.0, self.max_size / max(height, width))
        self.work_size = (max(1, round(height * self.scale)), max(1, round(width * self.scale)))
        self.map_shape = map_shape
        self.sums = _RegionSums(regions, self.work_size, self.scale)
        self.phase.start(self._scaled(frame))
        self._valid = None

    def measure(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        normals = self.phase.normals(self._scaled(frame))
        regions = np.stack([solve(s) for s in self.sums.sums(normals)]) / self.scale
        # map cells: each cell's normal equations, pooled with its neighbours' (Gaussian, sigma one
        # cell), solved with a ridge of MAP_RIDGE times the median cell's texture, so a cell with
        # little texture, or texture in one direction only, reads little motion instead of noise
        cells = _cells(normals, self.map_shape)
        cells = np.stack([cv2.GaussianBlur(c, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT) for c in cells])
        if self._valid is None:
            weakest = _smaller_eigenvalue(cells)
            floor = max(float(np.median(weakest)), 1e-30)
            self._ridge = MAP_RIDGE * float(np.median(cells[0] + cells[2]))
            self._valid = weakest >= self.texture_floor * floor
            self._valid &= _inner_cells(self.map_shape, self.work_size, self.wavelength)
        return regions, (solve(cells, ridge=0.0, damping=self._ridge) / self.scale).astype(np.float32)

    def valid_cells(self) -> np.ndarray:
        return self._valid if self._valid is not None else np.ones(self.map_shape, bool)

    def describe(self) -> dict:
        return {"name": PHASE, "wavelength_px": self.wavelength, "orientations": 4, "analysis_scale": self.scale}


class FlowEstimator:
    """Mean optical flow of the project's flow zoo from frame 0 to each frame."""

    color = True

    def __init__(self, name: str, device: str = "cpu", **options):
        import torch

        from motionmag.flow import get_flow_model

        self.name = name
        self.device = torch.device(device)
        self.model = get_flow_model(name, self.device, **options)

    def _tensor(self, frame: np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(frame, np.float32)).permute(2, 0, 1)[None].to(self.device)

    def start(self, frame: np.ndarray, regions: list[Region], map_shape: tuple[int, int]) -> None:
        self.reference = self._tensor(frame)
        self.map_shape = map_shape
        self.sums = _RegionSums(regions, frame.shape[:2], 1.0)

    def measure(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.no_grad():
            flow = self.model(self.reference, self._tensor(frame))[0].float().cpu().numpy()
        return self.sums.means(flow), _cells(flow, self.map_shape).astype(np.float32)

    def valid_cells(self) -> np.ndarray:
        return np.ones(self.map_shape, bool)

    def describe(self) -> dict:
        return {"name": self.name, "kind": "flow", "device": str(self.device)}


def make_estimator(estimator="phase", device: str = "cpu", **options) -> Estimator:
    """``"phase"`` (options: wavelength, max_size), a flow-zoo name (options go to
    :func:`motionmag.flow.get_flow_model`), or an object with the :class:`Estimator` methods."""
    if not isinstance(estimator, str):
        return estimator
    if estimator == PHASE:
        return PhaseEstimator(**options)
    from motionmag.flow import flow_spec, list_flow_models

    try:
        flow_spec(estimator)
    except MotionmagError:
        raise MotionmagError(
            f"unknown estimator {estimator!r}; choose phase or a flow model: {', '.join(list_flow_models())}"
        ) from None
    return FlowEstimator(estimator, device, **options)
