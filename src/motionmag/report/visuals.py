"""x-t slices and side-by-side videos, the usual way to see sub-pixel motion magnified."""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import cv2
import numpy as np

from motionmag.io.writer import to_uint8


def xt_slice(frames: Iterable[np.ndarray], row: int) -> np.ndarray:
    """Stack one image row over time: (T, W, 3) uint8, time going down."""
    return np.stack([to_uint8(f)[row] for f in frames])


def labelled(frame: np.ndarray, label: str) -> np.ndarray:
    frame = np.ascontiguousarray(to_uint8(frame))
    scale = max(0.4, frame.shape[1] / 640)
    thickness = max(1, int(round(scale * 1.5)))
    origin = (6, int(22 * scale))
    cv2.putText(frame, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(frame, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return frame


def side_by_side(streams: Sequence[Iterable[np.ndarray]], labels: Sequence[str], gap: int = 4) -> Iterator[np.ndarray]:
    """Frames of several equally sized clips next to each other, each with its label."""
    for frames in zip(*streams):
        tiles = [labelled(f, label) for f, label in zip(frames, labels)]
        spacer = np.full((tiles[0].shape[0], gap, 3), 255, np.uint8)
        row = [tiles[0]]
        for tile in tiles[1:]:
            row += [spacer, tile]
        yield np.concatenate(row, axis=1)


def slice_panel(slices: Sequence[np.ndarray], labels: Sequence[str], time_scale: int = 4, gap: int = 4) -> np.ndarray:
    """x-t slices next to each other, stretched in time so that few frames still show the motion."""
    tiles = []
    for image, label in zip(slices, labels):
        tall = np.repeat(image, time_scale, axis=0)
        header = labelled(np.full((28, tall.shape[1], 3), 40, np.uint8), label)
        tiles.append(np.concatenate([header, tall], axis=0))
    spacer = np.full((tiles[0].shape[0], gap, 3), 255, np.uint8)
    row = [tiles[0]]
    for tile in tiles[1:]:
        row += [spacer, tile]
    return np.concatenate(row, axis=1)
