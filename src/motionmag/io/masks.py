"""Masks for targeted magnification: load from .npy or an image, feather with a distance transform."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from motionmag.errors import MotionmagError


def load_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask as float32 (H, W) in [0, 1].

    Accepted, and nothing else (anything else is a one-line :class:`MotionmagError`):

    - ``.npy`` bool: True is on.
    - ``.npy`` integer with every value in [0, 255]: 0/1 when the largest value is at most 1 (1 is
      on), otherwise an 8-bit mask read as an image is (above 127 is on). Negative values or values
      above 255 are out of range.
    - ``.npy`` float with every value finite and in [0, 1] (a soft mask, used as it is). NaN, inf
      and values outside [0, 1] (an 8-bit 0-255 mask saved as float, say) are out of range.
    - an image: grey above 127 is on; colour images are converted to grey, an alpha channel ignored.

    A mask that is off everywhere (all 0, or an image or 8-bit mask with no value above 127)
    would magnify nothing, and is refused too.

    Args:
        path: the ``.npy`` file or image.
        size: the frame size (height, width) the mask must have.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"{path}: mask file not found")
    if path.suffix.lower() == ".npy":
        try:
            mask = np.load(path, allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:  # not .npy, truncated, unreadable
            raise MotionmagError(f"{path}: not a readable .npy array ({err or 'truncated'})") from None
        mask = _npy_mask(path, np.squeeze(mask))
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
    if not mask.any():
        raise MotionmagError(f"{path}: the mask is off everywhere (1 is on, or above 127 for an image or 8-bit mask), so nothing would be magnified")
    return mask


def _npy_mask(path: Path, mask: np.ndarray) -> np.ndarray:
    """An ``.npy`` array as a float32 mask in [0, 1], refusing values outside the accepted ranges."""
    if mask.size == 0:
        raise MotionmagError(f"{path}: the mask array is empty (shape {mask.shape})")
    if mask.dtype == bool:
        return mask.astype(np.float32)
    if np.issubdtype(mask.dtype, np.integer):
        low, high = int(mask.min()), int(mask.max())
        if low < 0 or high > 255:
            raise MotionmagError(f"{path}: integer mask values must lie in 0-255 (0/1, or 8-bit with above 127 on), got {low} to {high}")
        return (mask > (127 if high > 1 else 0)).astype(np.float32)
    if np.issubdtype(mask.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(mask)))
        if bad:
            raise MotionmagError(f"{path}: the mask has {bad} NaN or infinite value{'s' if bad > 1 else ''}; values must be finite, in [0, 1]")
        low, high = float(mask.min()), float(mask.max())
        if low < 0 or high > 1:
            hint = " (an 8-bit mask? divide it by 255)" if low >= 0 and high <= 255 else ""
            raise MotionmagError(f"{path}: float mask values must lie in [0, 1], got {low:g} to {high:g}{hint}")
        return mask.astype(np.float32)
    raise MotionmagError(f"{path}: a mask is bool, integer or float, not {mask.dtype}")


def feather(mask: np.ndarray, px: float) -> np.ndarray:
    """Soften a mask outwards over ``px`` pixels: 1 inside, a smooth ramp to 0 at distance ``px``.

    The ramp goes outwards because a magnified object moves past its own outline; its edge must
    still be magnified. One Euclidean distance transform (OpenCV, linear time), no Python loop.
    """
    if not math.isfinite(px) or px < 0:
        raise MotionmagError(f"the feather width must be a finite number of pixels >= 0, got {px:g}")
    if px == 0:
        return mask.astype(np.float32)
    inside = (mask > 0.5).astype(np.uint8)
    if not inside.any():  # a faint soft mask: nothing to ramp out from, keep it as it is
        return mask.astype(np.float32)
    distance_outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    t = np.clip(1.0 - distance_outside / float(px), 0.0, 1.0)
    soft = t * t * (3.0 - 2.0 * t)  # smoothstep: no visible kink where the ramp starts or ends
    return np.maximum(soft, mask).astype(np.float32)  # inside pixels are at distance 0, so already 1
