"""Frames as the analysis reads them: float32 in [0, 1], grey (luma) or RGB, one at a time."""

from __future__ import annotations

import numpy as np

from motionmag.errors import MotionmagError

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as OpenCV's grey


def to_float(frame: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 / float -> float32 in [0, 1] (uint8 divided by 255)."""
    frame = np.asarray(frame)
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3)):
        raise MotionmagError(f"a frame is (H, W) grey or (H, W, 3) RGB, got shape {frame.shape}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.dtype == np.uint8:
        return frame.astype(np.float32) * np.float32(1 / 255)
    if not np.issubdtype(frame.dtype, np.floating):
        raise MotionmagError(f"frames are uint8 or float in [0, 1], got {frame.dtype}")
    return frame.astype(np.float32, copy=False)


def luma(frame: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma of a frame (any of the forms :func:`to_float` takes)."""
    frame = to_float(frame)
    return frame if frame.ndim == 2 else np.ascontiguousarray(frame @ LUMA)


def to_rgb(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]."""
    frame = to_float(frame)
    return np.repeat(frame[..., None], 3, axis=2) if frame.ndim == 2 else frame


def to_uint8_rgb(frame: np.ndarray) -> np.ndarray:
    rgb = to_rgb(frame)
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
