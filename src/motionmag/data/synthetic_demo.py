"""A small Oh-style synthetic set from images that ship with scikit-image (offline, seconds).

Each sample: a textured background and ``objects`` soft-edged ellipses cut from other textures,
pasted in order (so they occlude each other), each layer with its own translation d. Frame A is
the scene at rest, C with every layer moved by d, the target with every layer moved by alpha * d;
B and the target carry the same per-layer colour perturbation (x * mult + add). Motion is
sub-pixel exact (cubic-spline shifts of smoothed textures) and frames are quantised with a dither,
as in the paper's recipe. This is the demo's stand-in for the full generator (COCO backgrounds,
PASCAL VOC objects, five subsets), which writes the same file layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np
from scipy import ndimage

from motionmag.data.demo import TEXTURES, _shift, _texture
from motionmag.errors import MotionmagError


@dataclass(frozen=True)
class DemoSynthSettings:
    size: int = 64  # square frames
    objects: tuple[int, int] = (2, 4)  # inclusive range of pasted objects
    alpha: tuple[float, float] = (1.0, 20.0)  # log-uniform
    max_motion: float = 3.0  # px, input motion of any layer
    max_magnified: float = 12.0  # px, alpha * motion
    color_add: float = 10.0  # +- on the 0-255 scale, per layer and channel
    color_mult: float = 0.0  # mult in 1 +- this, per layer and channel
    seed: int = 0

    def __post_init__(self):
        if not (0 <= self.objects[0] <= self.objects[1] and 1 <= self.alpha[0] <= self.alpha[1]):
            raise MotionmagError(f"synthetic settings: objects and alpha are (low, high) ranges, got {self.objects}, {self.alpha}")

    @classmethod
    def from_dict(cls, settings: dict) -> "DemoSynthSettings":
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
        try:
            return cls(**settings)
        except TypeError as err:
            raise MotionmagError(f"synthetic settings: {err}") from None

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=32)
def _source(name: str, size: int) -> np.ndarray:
    return _texture(name, size, size, smooth=1.0)


def _ellipse(size: int, center, radii, angle: float) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    x, y = xs - center[0], ys - center[1]
    u = x * math.cos(angle) + y * math.sin(angle)
    v = -x * math.sin(angle) + y * math.cos(angle)
    inside = (u / radii[0]) ** 2 + (v / radii[1]) ** 2 <= 1.0
    return np.clip(ndimage.gaussian_filter(inside.astype(np.float32), 1.0), 0, 1)


def _dither(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[0, 1] float -> uint8, rounding up with probability equal to the residual."""
    return np.clip(np.floor(image * 255.0 + rng.random(image.shape)), 0, 255).astype(np.uint8)


def demo_sample(settings: DemoSynthSettings, index: int) -> tuple[dict[str, np.ndarray], float, dict]:
    """Sample ``index`` (deterministic in settings.seed and index): frames, alpha, meta."""
    rng = np.random.default_rng([settings.seed, index])
    s = settings
    alpha = float(math.exp(rng.uniform(math.log(s.alpha[0]), math.log(s.alpha[1]))))
    limit = min(s.max_motion, s.max_magnified / alpha)
    margin = int(math.ceil(s.max_magnified)) + 4  # rendered larger, cropped: no border effects
    full = s.size + 2 * margin
    names = rng.permutation(len(TEXTURES))
    layers = []
    for i in range(int(rng.integers(s.objects[0], s.objects[1] + 1)) + 1):
        texture = _source(TEXTURES[names[i % len(names)]], full)
        if i == 0:
            mask = np.ones((full, full), np.float32)
            shape = {}
        else:
            center = margin + rng.uniform(0.15, 0.85, 2) * s.size
            radii = rng.uniform(0.12, 0.3, 2) * s.size
            angle = float(rng.uniform(0, math.pi))
            mask = _ellipse(full, center, radii, angle)
            shape = dict(center=(center - margin).tolist(), radii=radii.tolist(), orientation=angle)
        direction, amount = float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, limit))
        layers.append(dict(
            texture=texture, mask=mask, shape=shape, source=TEXTURES[names[i % len(names)]],
            motion=np.array([amount * math.cos(direction), amount * math.sin(direction)]),
            direction=direction, amount=amount,
            add=rng.uniform(-s.color_add, s.color_add, 3) / 255.0, mult=1 + rng.uniform(-s.color_mult, s.color_mult, 3),
        ))

    def render(k: float, perturbed: bool) -> np.ndarray:
        out = None
        for layer in layers:
            dx, dy = k * layer["motion"]
            texture = _shift(layer["texture"], dx, dy)
            if perturbed:
                texture = texture * layer["mult"] + layer["add"]
            if out is None:
                out = texture
            else:
                mask = _shift(layer["mask"], dx, dy)[..., None]
                out = mask * texture + (1 - mask) * out
        return np.clip(out[margin:-margin, margin:-margin], 0, 1)

    frames = dict(frame_a=render(0, False), frame_b=render(1, True), frame_c=render(1, False), amplified=render(alpha, True))
    frames = {name: _dither(frame, rng) for name, frame in frames.items()}
    meta = dict(
        generator="demo", index=index, alpha=alpha,
        layers=[dict(source=l["source"], motion_dir=l["direction"], motion_amount=l["amount"], color_add=(l["add"] * 255).tolist(),
                     color_mult=l["mult"].tolist(), **l["shape"]) for l in layers],
    )
    return frames, alpha, meta


def demo_samples(settings: DemoSynthSettings, count: int) -> Iterator[tuple[dict[str, np.ndarray], float, dict]]:
    for index in range(count):
        yield demo_sample(settings, index)


def write_demo_set(path, settings: dict | DemoSynthSettings, count: int, progress: bool = True) -> int:
    """Generate ``count`` samples into a synthetic sample file (atomically); returns the count."""
    from tqdm import tqdm

    from motionmag.data.synthetic import write_synthetic_set

    if not isinstance(settings, DemoSynthSettings):
        settings = DemoSynthSettings.from_dict(settings)
    samples = tqdm(demo_samples(settings, count), total=count, desc="synthetic samples", unit="sample", disable=not progress)
    return write_synthetic_set(path, samples)
