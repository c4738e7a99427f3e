"""Frame pairs whose dense optical flow is known exactly: training data for a flow network made here.

A pair is a background layer and 0-2 object layers (soft blob masks), each an affine view of a
photo. Between the two frames every layer undergoes its own small rigid motion (a translation,
plus a slight rotation and scaling about its centre), so the flow of a pixel of frame 0 is
``B x - x`` for the affine map ``B`` of the layer that pixel shows -- exact, with no estimate
involved. Layers are resampled once, bicubically, from low-passed sources (no aliasing), and
frames are quantised to 8 bits with a dither, as camera frames are.

The translation magnitude is log-uniform over ``motion`` (px), so tiny sub-pixel motions and
the large motions of magnified frames (alpha x input) are both seen.

Sources: photos bundled with scikit-image except those the demo clips score (chelsea, gravel,
brick), plus frames of any real clip given (e.g. resources/clips/baby, a downscaled excerpt).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from motionmag.synth.sources import DEMO_CLIP_IMAGES, DEMO_IMAGES, _blob_mask, _demo_image

TRAIN_IMAGES = tuple(name for name in DEMO_IMAGES if name not in DEMO_CLIP_IMAGES)  # never the demo's


@dataclass(frozen=True)
class FlowPairRecipe:
    size: int = 128  # square output frames
    motion: tuple[float, float] = (0.02, 12.0)  # px, translation magnitude (log-uniform)
    rotation: float = 1.0  # degrees, largest rotation between the frames
    scaling: float = 0.02  # largest relative scale change between the frames
    objects: tuple[int, int] = (0, 2)  # object layers per pair (inclusive)
    zoom: tuple[float, float] = (0.25, 1.0)  # source px -> output px (< 1 shrinks the photo)
    noise: float = 0.01  # Gaussian noise std added to both frames (fraction of full range)

    @classmethod
    def from_dict(cls, settings: dict | None) -> "FlowPairRecipe":
        settings = dict(settings or {})
        for key in ("motion", "objects", "zoom"):
            if key in settings:
                settings[key] = tuple(settings[key])
        return cls(**settings)


@lru_cache(maxsize=None)
def _clip_frames(path: str, every: int) -> tuple[np.ndarray, ...]:
    """Every ``every``-th frame of a short clip (video file or frame folder), float RGB."""
    from motionmag.io import open_video

    frames = []
    for i, frame in enumerate(open_video(path)):
        if i % every == 0:
            frame = frame.astype(np.float32) / 255.0
            frame.flags.writeable = False
            frames.append(frame)
    return tuple(frames)


class PhotoPool:
    """The photos layers are cut from: scikit-image's (minus the demo's) and frames of real clips."""

    def __init__(self, clips: list[str | Path] | None = None, every: int = 30):
        self.names = [f"skimage:{name}" for name in TRAIN_IMAGES]
        self._frames: list[np.ndarray] = []
        for clip in clips or []:
            frames = _clip_frames(str(clip), every)
            self.names += [f"{clip}#{i * every}" for i in range(len(frames))]
            self._frames += frames

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> np.ndarray:
        n = len(TRAIN_IMAGES)
        return _demo_image(TRAIN_IMAGES[i]) if i < n else self._frames[i - n]


def _affine(angle_deg: float, scale: float, centre: tuple[float, float], shift: tuple[float, float]) -> np.ndarray:
    """3x3: rotate by angle and scale about ``centre``, then translate by ``shift``."""
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    cx, cy = centre
    return np.array([[c, -s, cx - c * cx + s * cy + shift[0]], [s, c, cy - s * cx - c * cy + shift[1]], [0, 0, 1]])


def _warp(image: np.ndarray, source_to_out: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpAffine(image, source_to_out[:2], (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)


def _lowpass(image: np.ndarray, zoom: float) -> np.ndarray:
    """Blur a source before it is shrunk by ``zoom`` so the resampled layer does not alias."""
    sigma = 0.5 * math.sqrt(max(1.0 / zoom**2 - 1.0, 0.0))
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0.05 else image


class FlowPairRenderer:
    """``render(rng)`` -> (frame0, frame1 uint8 (S, S, 3), flow float32 (S, S, 2), frame 0 -> 1, x then y)."""

    def __init__(self, recipe: FlowPairRecipe, pool: PhotoPool):
        self.recipe, self.pool = recipe, pool

    def _placement(self, rng: np.random.Generator, image: np.ndarray, extent: float) -> tuple[np.ndarray, float]:
        """A source -> output affine showing a random window of ``image``, plus its zoom."""
        r, size = self.recipe, self.recipe.size
        h, w = image.shape[:2]
        zoom = float(np.exp(rng.uniform(*np.log(r.zoom))))
        zoom = max(zoom, extent / min(h, w))  # the window must fit in the photo
        angle = float(rng.uniform(-180, 180))
        half = extent / zoom / 2  # window half-size in source px (rotation-safe: extent is a diagonal)
        sx, sy = rng.uniform(half, w - half) if w > 2 * half else w / 2, rng.uniform(half, h - half) if h > 2 * half else h / 2
        # source (sx, sy) -> output centre, rotated and zoomed
        a = math.radians(angle)
        c, s = zoom * math.cos(a), zoom * math.sin(a)
        m = np.array([[c, -s, 0.0], [s, c, 0.0], [0, 0, 1]])
        m[:2, 2] = np.array([size / 2, size / 2]) - m[:2, :2] @ np.array([sx, sy])
        return m, zoom

    def _motion(self, rng: np.random.Generator, centre: tuple[float, float]) -> np.ndarray:
        r = self.recipe
        magnitude = float(np.exp(rng.uniform(math.log(r.motion[0]), math.log(r.motion[1]))))
        direction = rng.uniform(0, 2 * math.pi)
        shift = (magnitude * math.cos(direction), magnitude * math.sin(direction))
        return _affine(rng.uniform(-r.rotation, r.rotation), 1 + rng.uniform(-r.scaling, r.scaling), centre, shift)

    def render(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, size = self.recipe, self.recipe.size
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
        frames = [np.zeros((size, size, 3), np.float32) for _ in range(2)]
        flow = np.zeros((size, size, 2), np.float32)
        n_objects = int(rng.integers(r.objects[0], r.objects[1] + 1))
        for layer in range(1 + n_objects):
            image = self.pool[int(rng.integers(len(self.pool)))]
            if layer == 0:  # background: covers the frame with room for its motion
                extent = math.sqrt(2) * (size + 2 * r.motion[1]) + 8
                mask = None
            else:  # object: a blob of 30-70 % of the frame, anywhere in it
                extent = float(rng.uniform(0.3, 0.7)) * size
                mask = _blob_mask(rng, 64, 64)
            place, zoom = self._placement(rng, image, extent)
            offset = rng.uniform(-size / 3, size / 3, 2) if layer else np.zeros(2)  # objects sit anywhere
            place = _affine(0, 1, (0, 0), tuple(offset)) @ place
            centre = (size / 2 + offset[0], size / 2 + offset[1])  # the layer's window centre, output px
            motion = self._motion(rng, centre)
            source = _lowpass(image, zoom)
            views = [_warp(source, place, size), _warp(source, motion @ place, size)]
            layer_flow = np.stack([motion[0, 0] * xs + motion[0, 1] * ys + motion[0, 2] - xs,
                                   motion[1, 0] * xs + motion[1, 1] * ys + motion[1, 2] - ys], -1)
            if mask is None:
                frames = views
                flow[:] = layer_flow
                continue
            # the blob spans the object's window: scale its 64x64 grid to the window in the source
            window = extent / zoom
            src_centre = np.linalg.inv(place)[:2] @ np.array([centre[0], centre[1], 1.0])
            blob_to_source = np.array([[window / 64, 0, src_centre[0] - window / 2],
                                       [0, window / 64, src_centre[1] - window / 2], [0, 0, 1]])
            soft = ndimage.gaussian_filter(mask, 1.0)
            alphas = [cv2.warpAffine(soft, (p @ blob_to_source)[:2], (size, size), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_CONSTANT)[..., None] for p in (place, motion @ place)]
            frames = [a * v + (1 - a) * f for a, v, f in zip(alphas, views, frames)]
            flow = np.where(alphas[0] > 0.5, layer_flow, flow).astype(np.float32)
        out = []
        for frame in frames:
            frame = frame + rng.normal(0, r.noise, frame.shape) if r.noise else frame
            frame = np.clip(frame * 255 + rng.uniform(0, 1, frame.shape), 0, 255)  # dithered quantisation
            out.append(np.floor(frame).astype(np.uint8))
        return out[0], out[1], flow.astype(np.float32)


def training_pairs(renderer: FlowPairRenderer, count: int, seed: int, clips: list[str | Path] = (),
                   spacings: tuple[int, ...] = (1, 5)):
    """(frame_a, frame_b, source) triples for a pair file: ``count`` rendered pairs (pair i from
    seed (seed, i)), then FlowMag's candidate pairs (2k, 2k + s) of each real clip."""
    from motionmag.data.pairs import demo_pairs

    for i in range(count):
        frame_a, frame_b, _ = renderer.render(np.random.default_rng([seed, i]))
        yield frame_a, frame_b, f"rendered:{seed}:{i}"
    yield from demo_pairs({Path(clip).stem: clip for clip in clips}, spacings)
