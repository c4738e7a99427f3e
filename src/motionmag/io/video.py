"""Streaming video readers: a video file (PyAV, OpenCV or decord) or a folder of frame images.

Every reader yields RGB ``uint8`` arrays of shape (H, W, 3), one at a time, so memory does not
depend on the length of the video. ``open_video`` picks the reader.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from motionmag.errors import MotionmagError
from motionmag.io.images import read_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_FOLDER_FPS = Fraction(30)
BACKENDS = ("av", "cv2", "decord")
# frame rates an MP4 can carry (kept as a fraction with denominator <= 1001): one frame in 1000 s
# (time-lapse) up to a million frames a second (high-speed cameras)
MIN_FPS, MAX_FPS = 0.001, 1e6


def check_fps(fps, what: str = "fps") -> Fraction:
    """A frame rate as a Fraction, or a one-line :class:`MotionmagError` unless it is finite and in [MIN_FPS, MAX_FPS]."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise MotionmagError(f"{what} must be a number, got {fps!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise MotionmagError(f"{what} must be a finite number > 0 (frames per second), got {value:g}")
    if not MIN_FPS <= value <= MAX_FPS:
        raise MotionmagError(f"{what} must lie between {MIN_FPS:g} and {MAX_FPS:g} frames per second, got {value:g}")
    return (fps if isinstance(fps, Fraction) else Fraction(value)).limit_denominator(1001)


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    num_frames: int  # from the container's duration (edit lists honoured) or the folder listing


class FrameFolderReader:
    """Frames from the image files of one folder, in natural order (2.png before 10.png)."""

    def __init__(self, folder: Path, fps: Fraction | float | None = None):
        self.paths = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)],
        )
        if not self.paths:
            raise MotionmagError(f"{folder}: the folder holds no frame images ({', '.join(IMAGE_SUFFIXES)})")
        first = self._read(self.paths[0])
        fps = DEFAULT_FOLDER_FPS if fps is None else check_fps(fps)
        self.info = VideoInfo(first.shape[1], first.shape[0], fps, len(self.paths))

    _read = staticmethod(read_image)

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            frame = self._read(path)
            if frame.shape[:2] != (self.info.height, self.info.width):
                raise MotionmagError(f"{path}: size {frame.shape[1]}x{frame.shape[0]} differs from the first frame")
            yield frame

    def __len__(self) -> int:
        return self.info.num_frames


def _probe_av(path: Path) -> VideoInfo:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MotionmagError(f"{path}: the file has no video stream")
            stream = container.streams.video[0]
            fps = stream.average_rate or stream.guessed_rate or Fraction(30)
            # The stream duration honours MP4 edit lists; the sample count (stream.frames) does not.
            if stream.duration is not None and stream.time_base is not None:
                count = round(float(stream.duration * stream.time_base * fps))
            elif container.duration is not None:
                count = round(container.duration / 1e6 * float(fps))
            else:
                count = stream.frames
            return VideoInfo(stream.codec_context.width, stream.codec_context.height, Fraction(fps), int(count))
    except av.error.FFmpegError as err:
        raise MotionmagError(f"{path}: cannot read it as a video ({err.strerror or err})") from None


class AVReader:
    """PyAV (FFmpeg) decoding; honours edit lists, so trimmed clips have the right frame count."""

    def __init__(self, path: Path):
        self.path = path
        self.info = _probe_av(path)

    def __iter__(self) -> Iterator[np.ndarray]:
        import av

        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as err:
            raise MotionmagError(f"{self.path}: decoding failed ({err.strerror or err})") from None

    def __len__(self) -> int:
        return self.info.num_frames


class CV2Reader:
    """OpenCV decoding (correct on edit lists too; its CAP_PROP_FRAME_COUNT is not, so we use PyAV's)."""

    def __init__(self, path: Path):
        self.path = path
        self.info = _probe_av(path)

    def __iter__(self) -> Iterator[np.ndarray]:
        capture = cv2.VideoCapture(str(self.path))
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            capture.release()

    def __len__(self) -> int:
        return self.info.num_frames


class DecordReader:
    """decord, kept as an optional backend that refuses files it would read wrongly.

    decord 0.6 ignores MP4 edit lists: on a stream-copied trim it returns every stored sample
    (152 frames where the clip has 92). We compare its count with the edit-list-aware duration
    and refuse when they disagree, rather than return the wrong frames.
    """

    def __init__(self, path: Path):
        try:
            import decord
        except ImportError:
            raise MotionmagError("the decord backend needs `pip install decord` (x86_64 only)") from None
        self.path = path
        self.info = _probe_av(path)
        self._reader = decord.VideoReader(str(path))
        if abs(len(self._reader) - self.info.num_frames) > 1:
            raise MotionmagError(
                f"{path}: decord sees {len(self._reader)} frames but the clip has {self.info.num_frames} "
                "(an MP4 edit list decord ignores); use --backend av"
            )

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self._reader)):
            yield self._reader[i].asnumpy()

    def __len__(self) -> int:
        return len(self._reader)


def open_video(path: str | Path, backend: str = "av", fps: float | None = None):
    """Open a video file or a folder of frames for streaming.

    Args:
        path: a video file (anything FFmpeg reads) or a folder of images.
        backend: ``av`` (default), ``cv2`` or ``decord`` for video files.
        fps: frame rate of a frame folder (default 30; otherwise finite and > 0, see :func:`check_fps`);
            ignored for video files, which carry their own.

    Returns:
        A reader: iterate it for RGB uint8 frames (H, W, 3); ``.info`` is a :class:`VideoInfo`.
    """
    path = Path(path)
    if not path.exists():
        raise MotionmagError(f"{path}: no such file or folder")
    if path.is_dir():
        return FrameFolderReader(path, fps)
    if backend not in BACKENDS:
        raise MotionmagError(f"unknown video backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return {"av": AVReader, "cv2": CV2Reader, "decord": DecordReader}[backend](path)
