"""A contact sheet of synthetic samples: one row per sample, A | B | C | amplified."""

from __future__ import annotations

import math

import cv2
import numpy as np

from motionmag.synth.samples import FRAMES, SyntheticSet
from motionmag.errors import MotionmagError

HEADERS = ("A", "B = C, colours perturbed", "C = A moved by d", "amplified: alpha d, colours of B")
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(canvas: np.ndarray, text: str, x: int, y: int, scale: float) -> None:
    cv2.putText(canvas, text, (x, y), _FONT, scale, (255, 255, 255), max(1, round(scale * 2)), cv2.LINE_AA)


def _caption(meta: dict, alpha: float) -> str:
    layers = [meta["background"], *meta["objects"]] if "background" in meta else []
    motion = max((layer["motion_amount"] for layer in layers), default=0.0)
    parts = [f"#{meta.get('index', '?')}", meta.get("subset", ""), f"alpha {alpha:.3g}", f"max motion {motion:.3g} px",
             f"{len(meta.get('objects', []))} objects"]
    if "level" in meta:
        parts.append(f"level {meta['level']:.3g}")
    return "  ".join(p for p in parts if p)


def contact_sheet(samples: list[tuple[dict[str, np.ndarray], float, dict]], min_tile: int = 256) -> np.ndarray:
    """RGB uint8 sheet: a header, then per sample a caption line and its four frames side by
    side. Small frames are enlarged (nearest neighbour, so pixels stay visible) to ``min_tile``."""
    size = max(frames["frame_a"].shape[0] for frames, _, _ in samples)
    zoom = max(1, math.ceil(min_tile / size))
    tile, gap, bar = size * zoom, 4, 28
    scale = 0.5
    width = 4 * tile + 3 * gap
    rows = [np.zeros((bar, width, 3), np.uint8)]
    for i, header in enumerate(HEADERS):
        _text(rows[0], header, i * (tile + gap) + 6, 19, scale)
    for frames, alpha, meta in samples:
        caption = np.zeros((bar, width, 3), np.uint8)
        _text(caption, _caption(meta, alpha), 6, 19, scale)
        tiles = []
        for i, name in enumerate(FRAMES):
            image = np.repeat(np.repeat(frames[name], zoom, axis=0), zoom, axis=1)
            image = np.pad(image, ((0, tile - image.shape[0]), (0, tile - image.shape[1]), (0, 0)))
            tiles.append(image)
            if i < 3:
                tiles.append(np.zeros((tile, gap, 3), np.uint8))
        rows += [caption, np.concatenate(tiles, axis=1)]
    return np.concatenate(rows, axis=0)


def samples_from_set(path, start: int = 0, count: int = 6) -> list[tuple[dict[str, np.ndarray], float, dict]]:
    """Samples start ... start + count - 1 of a set (manifest or sample file), as the generator makes them."""
    samples = SyntheticSet(path)
    if not 0 <= start < len(samples):
        raise MotionmagError(f"{path}: sample {start} is past its {len(samples)} samples")
    chosen = []
    for i in range(start, min(len(samples), start + count)):
        frames, alpha = samples[i]
        chosen.append((dict(zip(FRAMES, frames)), alpha, samples.meta(i)))
    return chosen
