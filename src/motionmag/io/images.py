"""Single images: read as RGB uint8, write atomically (temporary sibling, then rename)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from motionmag.errors import MotionmagError


def read_image(path: str | Path) -> np.ndarray:
    """(H, W, 3) RGB uint8; grey images are expanded, an alpha channel is dropped."""
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"{path}: image file not found")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise MotionmagError(f"{path}: not a readable image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def write_image(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an (H, W, 3) RGB uint8 image; the format follows the suffix (.png, .jpg, ...)."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise MotionmagError(f"{path}: the output folder {parent} does not exist")
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        try:
            written = cv2.imwrite(str(tmp), cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
        except cv2.error:
            written = False
        if not written:
            raise MotionmagError(f"{path}: cannot write this image (unknown suffix or unwritable folder)")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
