"""Lossless frame codecs for the HDF5 sample files (pair sets, synthetic sets): one encoded
frame is a variable-length uint8 array.

    png    RGB uint8, OpenCV, compression 3
    webp   RGB uint8, lossless WebP at the fastest effort: 15-20 % smaller than PNG and faster
           to encode and decode (BENCHMARKS.md); decoded by OpenCV like PNG
    npy    RGB float32 in [0, 1], the bytes of a ``.npy`` file (exact; 3 MB a 512x512 frame)
"""

from __future__ import annotations

import io

import cv2
import numpy as np

from motionmag.errors import MotionmagError

IMAGE_ENCODINGS = ("webp", "png")


def encode_png(frame: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:  # pragma: no cover - OpenCV only fails on malformed arrays
        raise MotionmagError("could not PNG-encode a frame")
    return data.reshape(-1)


def decode_frame(data: np.ndarray) -> np.ndarray:
    frame = cv2.imdecode(np.asarray(data, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise MotionmagError("an undecodable frame (corrupt sample file?)")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def encode_npy(frame: np.ndarray) -> np.ndarray:
    """An RGB float (H, W, 3) frame -> the bytes of its float32 ``.npy`` file (lossless)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(frame, np.float32), allow_pickle=False)
    return np.frombuffer(buffer.getvalue(), np.uint8)


def decode_npy(data: np.ndarray) -> np.ndarray:
    try:
        frame = np.load(io.BytesIO(np.asarray(data, np.uint8).tobytes()), allow_pickle=False)
    except ValueError:
        raise MotionmagError("an undecodable float frame (corrupt pair file?)") from None
    return frame


def encode_frame(frame: np.ndarray, encoding: str = "webp") -> np.ndarray:
    """RGB uint8 (H, W, 3) -> lossless bytes. WebP at the fastest effort: 15-20 % smaller
    than PNG and faster to encode and decode (BENCHMARKS.md)."""
    if encoding == "png":
        return encode_png(frame)
    if encoding != "webp":
        raise MotionmagError(f"unknown frame encoding {encoding!r}; choose {' or '.join(IMAGE_ENCODINGS)}")
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buffer, "WEBP", lossless=True, method=0, quality=0)
    return np.frombuffer(buffer.getvalue(), np.uint8)
