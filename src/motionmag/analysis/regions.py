"""Regions to measure: rectangles (``--roi x,y,w,h``), a mask file, or a grid over the frame.

A region is either a rectangle or a weight mask (float in [0, 1], frame-sized). Rectangles and
masks are checked against the frame when it is known (:func:`resolve_regions`); every problem
is a one-line :class:`~motionmag.errors.MotionmagError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from motionmag.errors import MotionmagError
from motionmag.io.masks import load_mask

DEFAULT_GRID = (3, 3)  # rows, columns when no region is given
_ROI = re.compile(r"^\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*$")


@dataclass(frozen=True, eq=False)
class Region:
    """A named rectangle (x, y, w, h in pixels, x right, y down) or a frame-sized weight mask."""

    name: str
    rect: tuple[int, int, int, int] | None = None
    mask: np.ndarray | None = field(default=None, repr=False)
    source: str = ""  # "roi", "grid", the mask file, ...

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the rectangle, or of the mask's non-zero pixels."""
        if self.rect is not None:
            return self.rect
        ys, xs = np.nonzero(self.mask > 0)
        return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)

    @property
    def centre(self) -> tuple[float, float]:
        if self.mask is not None:
            ys, xs = np.mgrid[0 : self.mask.shape[0], 0 : self.mask.shape[1]]
            total = float(self.mask.sum())
            return float((xs * self.mask).sum() / total), float((ys * self.mask).sum() / total)
        x, y, w, h = self.rect
        return x + 0.5 * (w - 1), y + 0.5 * (h - 1)

    def weights(self) -> np.ndarray | None:
        """The mask cropped to :attr:`bbox` (float32), or None for a rectangle (all ones)."""
        if self.mask is None:
            return None
        x, y, w, h = self.bbox
        return self.mask[y : y + h, x : x + w].astype(np.float32)

    def describe(self) -> str:
        if self.rect is not None:
            x, y, w, h = self.rect
            return f"{self.name} (x={x}, y={y}, w={w}, h={h})"
        return f"{self.name} ({self.source or 'mask'})"

    def to_dict(self) -> dict:
        x, y, w, h = self.bbox
        out = {"name": self.name, "kind": "rect" if self.mask is None else "mask", "bbox": [x, y, w, h]}
        if self.source:
            out["source"] = self.source
        if self.mask is not None:
            out["pixels"] = int(np.count_nonzero(self.mask > 0))
        return out


def parse_roi(text: str, name: str | None = None) -> Region:
    """``"x,y,w,h"`` (integers, pixels, origin top-left) as a rectangle :class:`Region`.

    The frame is not known here: :func:`resolve_regions` checks that the rectangle lies inside it.
    """
    match = _ROI.match(str(text))
    if not match:
        raise MotionmagError(f"a region is x,y,w,h: four integers in pixels (e.g. 120,80,64,48), got {text!r}")
    x, y, w, h = (int(v) for v in match.groups())
    return rect_region((x, y, w, h), name or "roi")


def rect_region(rect: Sequence[int], name: str = "roi", source: str = "roi") -> Region:
    if len(rect) != 4:
        raise MotionmagError(f"region {name}: a rectangle is (x, y, w, h), got {tuple(rect)}")
    x, y, w, h = (int(round(float(v))) for v in rect)
    if w <= 0 or h <= 0:
        raise MotionmagError(f"region {name} (x={x}, y={y}, w={w}, h={h}) is empty: its width and height must be at least 1 px")
    if x < 0 or y < 0:
        raise MotionmagError(f"region {name} (x={x}, y={y}, w={w}, h={h}) starts outside the frame: x and y must be >= 0")
    return Region(name, rect=(x, y, w, h), source=source)


def mask_region(mask: str | Path | np.ndarray, size: tuple[int, int] | None = None, name: str | None = None) -> Region:
    """A weight-mask region from a mask file (:func:`motionmag.io.masks.load_mask`) or an array.

    size: the frame (height, width) the mask must match, when known.
    """
    if isinstance(mask, (str, Path)):
        path = Path(mask)
        array = load_mask(path, size)  # refuses unreadable, wrong-sized and all-off masks
        return Region(name or f"mask:{path.stem}", mask=array, source=str(path))
    array = np.asarray(mask)
    label = name or "mask"
    if array.ndim != 2 or array.size == 0:
        raise MotionmagError(f"region {label}: a mask must be a non-empty 2-D (H, W) array, got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
        raise MotionmagError(f"region {label}: mask values must be finite, in [0, 1]")
    if not (array > 0).any():
        raise MotionmagError(f"region {label} is empty: the mask is off everywhere")
    if size is not None and array.shape != tuple(size):
        raise MotionmagError(f"region {label}: the mask is {array.shape[1]}x{array.shape[0]} but the video is {size[1]}x{size[0]} (width x height)")
    return Region(label, mask=array, source="array")


def grid_regions(width: int, height: int, rows: int = DEFAULT_GRID[0], cols: int = DEFAULT_GRID[1]) -> list[Region]:
    """``rows`` x ``cols`` rectangles tiling the frame, named r1c1 (top left) ... r{rows}c{cols}."""
    if rows < 1 or cols < 1 or rows > height or cols > width:
        raise MotionmagError(f"a region grid needs 1 to {height} rows and 1 to {width} columns, got {rows}x{cols}")
    xs = np.round(np.linspace(0, width, cols + 1)).astype(int)
    ys = np.round(np.linspace(0, height, rows + 1)).astype(int)
    return [
        Region(f"r{r + 1}c{c + 1}", rect=(int(xs[c]), int(ys[r]), int(xs[c + 1] - xs[c]), int(ys[r + 1] - ys[r])), source="grid")
        for r in range(rows)
        for c in range(cols)
    ]


def as_region(item, index: int = 1, size: tuple[int, int] | None = None) -> Region:
    """One region from a :class:`Region`, an ``"x,y,w,h"`` string, an (x, y, w, h) tuple, a mask
    array, or the path of a mask file (a string that is not four integers)."""
    if isinstance(item, Region):
        return item
    if isinstance(item, np.ndarray):
        return mask_region(item, size, name=f"mask{index}")
    if isinstance(item, Path):
        return mask_region(item, size)
    if isinstance(item, str):
        if _ROI.match(item):
            return parse_roi(item, f"roi{index}")
        if "," in item and not Path(item).exists():
            return parse_roi(item, f"roi{index}")  # a malformed rectangle: its own message
        return mask_region(item, size)
    if isinstance(item, (tuple, list)) and len(item) == 4:
        return rect_region(item, f"roi{index}")
    raise MotionmagError(f"a region is 'x,y,w,h', a mask file or a mask array, got {item!r}")


def resolve_regions(
    regions: Iterable | None, width: int, height: int, grid: tuple[int, int] = DEFAULT_GRID
) -> list[Region]:
    """The regions to measure in a ``width`` x ``height`` frame, checked: each inside the frame,
    none empty, names unique. None (or an empty list) gives a ``grid`` (rows, cols) of rectangles."""
    if regions is None or (isinstance(regions, (list, tuple)) and not regions):
        return grid_regions(width, height, *grid)
    if isinstance(regions, (str, Path, np.ndarray, Region)):
        regions = [regions]
    elif isinstance(regions, tuple) and len(regions) == 4 and all(isinstance(v, (int, np.integer)) for v in regions):
        regions = [regions]  # one (x, y, w, h) rectangle
    out = [check_region(as_region(item, i + 1, (height, width)), width, height) for i, item in enumerate(regions)]
    names = [r.name for r in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MotionmagError(f"region names must be unique, {', '.join(duplicates)} repeats")
    return out


def check_region(region: Region, width: int, height: int) -> Region:
    """The region itself, or a one-line error if it is empty or reaches outside the frame."""
    if region.mask is not None:
        if region.mask.shape != (height, width):
            raise MotionmagError(
                f"region {region.name}: the mask is {region.mask.shape[1]}x{region.mask.shape[0]} but the video is {width}x{height} (width x height)"
            )
        if not (region.mask > 0).any():
            raise MotionmagError(f"region {region.name} is empty: the mask is off everywhere")
        return region
    x, y, w, h = region.rect
    if w <= 0 or h <= 0:
        raise MotionmagError(f"region {region.describe()} is empty: its width and height must be at least 1 px")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise MotionmagError(
            f"region {region.describe()} reaches outside the {width}x{height} frame (it spans x {x}-{x + w}, y {y}-{y + h})"
        )
    return region
