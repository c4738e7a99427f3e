"""Synthetic demo clips with known sub-pixel motion, rendered from images that ship with scikit-image.

A textured object (a soft-edged ellipse cut from one image) moves over a textured background
(another image); each follows its own sinusoid d(t) = A sin(2 pi f t / fps) (cos theta, sin theta),
so d(0) = 0 and frame 0 is the reference. Because the motion is known, the same renderer also
makes the ground truth of a magnified clip: every displacement times alpha.

Translation is by cubic-spline interpolation (scipy.ndimage.shift), accurate to well under
0.01 px on these band-limited textures; frames are quantised to 8 bits only when written.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage
from skimage import data as skdata
from skimage.transform import resize

from motionmag.errors import MotionmagError

# Images bundled inside the scikit-image wheel: no download needed.
TEXTURES = ("astronaut", "brick", "camera", "chelsea", "coffee", "grass", "gravel", "rocket", "cat", "immunohistochemistry")


@dataclass
class Motion:
    amplitude: float = 0.0  # px
    frequency: float = 1.0  # Hz
    direction: float = 0.0  # degrees, 0 = +x (right), 90 = +y (down)

    def displacement(self, t: np.ndarray, fps: float) -> np.ndarray:
        """(T, 2) displacement (x, y) in px at frame indices ``t``."""
        s = self.amplitude * np.sin(2 * math.pi * self.frequency * np.asarray(t, np.float64) / fps)
        angle = math.radians(self.direction)
        return np.stack((s * math.cos(angle), s * math.sin(angle)), axis=-1)


@dataclass
class DemoClip:
    width: int = 256
    height: int = 192
    frames: int = 48
    fps: float = 24.0
    background: str = "gravel"
    object: str = "chelsea"
    object_center: tuple[float, float] = (0.5, 0.5)  # fraction of (width, height)
    object_radii: tuple[float, float] = (0.28, 0.3)  # fraction of (width, height)
    smooth: float = 1.0  # Gaussian sigma (px) applied to the textures: keeps them band-limited
    object_motion: Motion = field(default_factory=lambda: Motion(0.5, 2.0, 0.0))
    background_motion: Motion = field(default_factory=lambda: Motion(0.1, 0.75, 90.0))

    @classmethod
    def from_dict(cls, settings: dict) -> "DemoClip":
        settings = dict(settings)
        for key in ("object_motion", "background_motion"):
            if key in settings:
                settings[key] = Motion(**settings[key])
        for key in ("object_center", "object_radii"):
            if key in settings:
                settings[key] = tuple(settings[key])
        try:
            return cls(**settings)
        except TypeError as err:
            raise MotionmagError(f"demo clip settings: {err}") from None

    def to_dict(self) -> dict:
        return asdict(self)


def _texture(name: str, height: int, width: int, smooth: float) -> np.ndarray:
    if name not in TEXTURES:
        raise MotionmagError(f"unknown texture {name!r}; choose one of {', '.join(TEXTURES)}")
    image = getattr(skdata, name)()
    image = np.asarray(image, np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    image = image[..., :3]
    # centre crop to the clip's aspect ratio, then resize (anti-aliased)
    h, w = image.shape[:2]
    aspect = width / height
    if w / h > aspect:
        cw = int(round(h * aspect))
        image = image[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = int(round(w / aspect))
        image = image[(h - ch) // 2 : (h - ch) // 2 + ch]
    image = resize(image, (height, width), anti_aliasing=True, preserve_range=True).astype(np.float32)
    if smooth > 0:
        image = ndimage.gaussian_filter(image, sigma=(smooth, smooth, 0))
    return image


def _shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Content moves by (dx, dy): out(x) = image(x - d). Cubic spline, mirrored borders."""
    if image.ndim == 2:
        return ndimage.shift(image, (dy, dx), order=3, mode="mirror")
    return np.stack([ndimage.shift(image[..., c], (dy, dx), order=3, mode="mirror") for c in range(image.shape[-1])], -1)


class DemoRenderer:
    """Renders frame t of a :class:`DemoClip`, optionally with every motion scaled by ``alpha``."""

    def __init__(self, clip: DemoClip):
        self.clip = clip
        self.background = _texture(clip.background, clip.height, clip.width, clip.smooth)
        self.object = _texture(clip.object, clip.height, clip.width, clip.smooth)
        ys, xs = np.mgrid[0 : clip.height, 0 : clip.width].astype(np.float32)
        cx, cy = clip.object_center[0] * clip.width, clip.object_center[1] * clip.height
        rx, ry = clip.object_radii[0] * clip.width, clip.object_radii[1] * clip.height
        inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
        self.mask = np.clip(ndimage.gaussian_filter(inside.astype(np.float32), 1.0), 0, 1)

    def displacements(self, alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(T, 2) object and background displacements from frame 0, in px."""
        t = np.arange(self.clip.frames)
        return (
            alpha * self.clip.object_motion.displacement(t, self.clip.fps),
            alpha * self.clip.background_motion.displacement(t, self.clip.fps),
        )

    def frame(self, t: int, alpha: float = 1.0) -> np.ndarray:
        """Float32 (H, W, 3) in [0, 1]."""
        obj, bg = self.displacements(alpha)
        background = _shift(self.background, *bg[t])
        foreground = _shift(self.object, *obj[t])
        mask = _shift(self.mask, *obj[t])[..., None]
        return np.clip(mask * foreground + (1 - mask) * background, 0.0, 1.0)

    def frames(self, alpha: float = 1.0):
        for t in range(self.clip.frames):
            yield self.frame(t, alpha)

    def regions(self, margin: int = 4) -> tuple[np.ndarray, np.ndarray]:
        """Boolean (H, W) masks where only the object, or only the background, is seen in every
        frame (eroded / dilated by the largest motion plus ``margin``), away from the borders."""
        inside = self.mask > 0.5
        reach = int(math.ceil(self.clip.object_motion.amplitude)) + margin
        obj = ndimage.binary_erosion(inside, iterations=reach)
        bg = ~ndimage.binary_dilation(inside, iterations=reach)
        border = np.zeros_like(bg)
        border[margin:-margin, margin:-margin] = True
        return obj & border, bg & border
