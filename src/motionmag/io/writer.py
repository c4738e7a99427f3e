"""Writers that never leave a half-written output: H.264 MP4 for browsers, or a folder of PNGs.

Both write into a hidden temporary sibling and rename it into place on a clean close; on an
error the temporary is removed and any older output is left as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from motionmag.errors import MotionmagError
from motionmag.io.video import check_fps

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """uint8 frames pass through; float frames in [0, 1] are rounded (not truncated)."""
    if frame.dtype == np.uint8:
        return frame
    return np.clip(np.rint(np.asarray(frame, np.float32) * 255.0), 0, 255).astype(np.uint8)


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise MotionmagError(f"{path}: the output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise MotionmagError(f"{path}: the output folder {parent} is not writable")


class _AtomicWriter:
    """Context manager: ``close()`` (rename into place) on success, ``abort()`` (delete) on error."""

    def close(self) -> None:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


class H264Writer(_AtomicWriter):
    """H.264 (libx264, yuv420p, +faststart) that Chromium, Firefox and Safari play.

    yuv420p needs even sizes: an odd width or height gets one edge-replicated column or row.
    The frame rate is kept exactly (a Fraction such as 30000/1001). Preset ``veryfast``: about
    3x faster than x264's default ``medium`` for a slightly larger file at the same quality (crf).
    """

    def __init__(self, path: str | Path, fps: Fraction | float, crf: int = 18, preset: str = "veryfast"):
        self.path = Path(path)
        self.fps = check_fps(fps, "the output frame rate")  # before anything is created
        _check_writable(self.path)
        self.crf, self.preset = crf, preset
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._container = None
        self._stream = None
        self.frames_written = 0

    def _open(self, height: int, width: int) -> None:
        import av

        self._container = av.open(str(self._tmp), mode="w", options={"movflags": "+faststart"})
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        self._stream = stream

    def write(self, frame: np.ndarray) -> None:
        import av

        frame = to_uint8(frame)
        if self._stream is None:
            self._open(*frame.shape[:2])
            self.size = frame.shape[:2]
        elif frame.shape[:2] != self.size:
            raise MotionmagError(f"{self.path}: frame size changed from {self.size} to {frame.shape[:2]}")
        h, w = frame.shape[:2]
        if h % 2 or w % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        if self._stream is None:
            self.abort()
            raise MotionmagError(f"{self.path}: no frames to write")
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the temporary is deleted either way
                pass
        self._tmp.unlink(missing_ok=True)


class PngFolderWriter(_AtomicWriter):
    """Lossless frames 00000.png, 00001.png, ... in a folder (for evaluation and frame-exact work)."""

    def __init__(self, path: str | Path, fps: Fraction | float | None = None):
        self.path = Path(path)
        _check_writable(self.path)
        self.fps = fps
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=self.path.parent))
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        bgr = cv2.cvtColor(to_uint8(frame), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(self._tmp / f"{self.frames_written:05d}.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        self.frames_written += 1

    def close(self) -> None:
        if not self.frames_written:
            self.abort()
            raise MotionmagError(f"{self.path}: no frames to write")
        if self.path.exists():
            shutil.rmtree(self.path) if self.path.is_dir() else self.path.unlink()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def open_writer(path: str | Path, fps: Fraction | float, crf: int = 18):
    """An H.264 writer for a video suffix (.mp4, .mov, ...), else a PNG-folder writer."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return H264Writer(path, fps, crf=crf)
    if path.suffix:
        raise MotionmagError(f"{path}: unknown output type; use one of {', '.join(VIDEO_SUFFIXES)} or a folder name")
    return PngFolderWriter(path, fps)
