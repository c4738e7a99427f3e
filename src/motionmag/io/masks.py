"""Masks for targeted magnification: load from .npy or an image, feather with a distance transform."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from motionmag.errors import MotionmagError


def load_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask as float32 (H, W) in [0, 1].

    Args:
        path: ``.npy`` (bool, integer 0/1 or 0/255, or float in [0, 1]) or an image (grey > 127 is on;
            colour images are converted to grey; an alpha channel is ignored).
        size: the frame size (height, width) the mask must have.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"{path}: mask file not found")
    if path.suffix.lower() == ".npy":
        try:
            mask = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise MotionmagError(f"{path}: not a readable .npy array ({err})") from None
        mask = np.squeeze(mask)
        if mask.dtype == bool:
            mask = mask.astype(np.float32)
        elif np.issubdtype(mask.dtype, np.integer):
            mask = (mask > (127 if mask.max() > 1 else 0)).astype(np.float32)
        else:
            mask = np.clip(mask.astype(np.float32), 0.0, 1.0)
    else:
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise MotionmagError(f"{path}: not a readable mask image")
        mask = (grey > 127).astype(np.float32)
    if mask.ndim != 2:
        raise MotionmagError(f"{path}: a mask must be 2-D (H, W), got shape {mask.shape}")
    if size is not None and mask.shape != tuple(size):
        raise MotionmagError(
            f"{path}: mask is {mask.shape[1]}x{mask.shape[0]} but the video is {size[1]}x{size[0]} (width x height)"
        )
    return mask


def feather(mask: np.ndarray, px: float) -> np.ndarray:
    """Soften a mask outwards over ``px`` pixels: 1 inside, a smooth ramp to 0 at distance ``px``.

    The ramp goes outwards because a magnified object moves past its own outline; its edge must
    still be magnified. One Euclidean distance transform (OpenCV, linear time), no Python loop.
    """
    if px <= 0:
        return mask.astype(np.float32)
    inside = (mask > 0.5).astype(np.uint8)
    if not inside.any():
        return np.zeros_like(mask, dtype=np.float32)
    distance_outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    t = np.clip(1.0 - distance_outside / float(px), 0.0, 1.0)
    soft = t * t * (3.0 - 2.0 * t)  # smoothstep: no visible kink where the ramp starts or ends
    return np.maximum(soft, mask).astype(np.float32)  # inside pixels are at distance 0, so already 1
