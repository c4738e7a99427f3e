"""Rendered clips with known sub-pixel motion, to test and measure the analysis.

A band-limited random texture (the background) with rectangular textured patches on it; each
patch moves ``A sin(2 pi f t)`` along its own direction, and a camera shake (a smooth random
translation) moves everything. Translation is exact: each layer is shifted by a phase ramp in the
Fourier domain (reflect-padded so the wrap-around stays out of the frame), then the layers are
composited with soft (Gaussian-edged) patch masks. Frames are streamed, never stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from scipy import ndimage, signal

PAD = 16


@dataclass
class Patch:
    rect: tuple[int, int, int, int]  # x, y, w, h
    amplitude: float  # px
    frequency: float  # Hz
    direction: float = 0.0  # degrees: 0 = +x, 90 = +y (down)

    def displacement(self, t: np.ndarray, fps: float) -> np.ndarray:
        s = self.amplitude * np.sin(2 * math.pi * self.frequency * np.asarray(t, np.float64) / fps)
        a = math.radians(self.direction)
        return np.stack((s * math.cos(a), s * math.sin(a)), axis=-1)

    def inner(self, margin: int = 6) -> tuple[int, int, int, int]:
        """The patch rectangle shrunk by ``margin`` px: only the patch is seen there."""
        x, y, w, h = self.rect
        return x + margin, y + margin, w - 2 * margin, h - 2 * margin


@dataclass
class SyntheticClip:
    width: int = 240
    height: int = 160
    frames: int = 300
    fps: float = 30.0
    patches: list[Patch] = field(default_factory=list)
    shake: float = 0.0  # largest camera displacement, px (each axis)
    shake_cutoff: float = 3.0  # Hz: the shake is white noise low-passed here
    noise: float = 0.0  # std of additive noise per pixel, on the [0, 1] scale
    uint8: bool = True
    seed: int = 0

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        size = (self.height + 2 * PAD, self.width + 2 * PAD)
        self._background = np.fft.rfft2(_texture(rng, size))
        self._layers = []
        ys, xs = np.mgrid[0 : size[0], 0 : size[1]]
        for patch in self.patches:
            x, y, w, h = patch.rect
            mask = ((xs >= x + PAD) & (xs < x + w + PAD) & (ys >= y + PAD) & (ys < y + h + PAD)).astype(np.float64)
            mask = ndimage.gaussian_filter(mask, 1.0)
            texture = _texture(rng, size)
            self._layers.append((np.fft.rfft2(texture * mask), np.fft.rfft2(mask)))
        self._ky = np.fft.fftfreq(size[0])[:, None]
        self._kx = np.fft.rfftfreq(size[1])[None, :]
        self._size = size
        self.camera = self._shake(np.random.default_rng(self.seed + 1))

    def _shake(self, rng: np.random.Generator) -> np.ndarray:
        """(T, 2) camera displacement, 0 at frame 0."""
        if self.shake <= 0:
            return np.zeros((self.frames, 2))
        sos = signal.butter(4, min(self.shake_cutoff / (0.5 * self.fps), 0.99), output="sos")
        walk = signal.sosfiltfilt(sos, rng.normal(size=(self.frames + 200, 2)), axis=0)[100:-100]
        walk -= walk[0]
        return walk * (self.shake / np.abs(walk).max(axis=0))

    def _move(self, spectrum: np.ndarray, d: np.ndarray) -> np.ndarray:
        ramp = np.exp(-2j * np.pi * (self._kx * d[0] + self._ky * d[1]))
        return np.fft.irfft2(spectrum * ramp, s=self._size)

    def motion(self, index: int) -> np.ndarray:
        """(T, 2) displacement of patch ``index`` in the scene (camera shake not included)."""
        return self.patches[index].displacement(np.arange(self.frames), self.fps)

    def frame(self, t: int) -> np.ndarray:
        camera = self.camera[t]
        image = self._move(self._background, camera)
        for patch, (textured, mask) in zip(self.patches, self._layers):
            d = camera + patch.displacement(t, self.fps)
            m = self._move(mask, d)
            image = image * (1 - m) + self._move(textured, d)
        image = image[PAD:-PAD, PAD:-PAD]
        if self.noise > 0:
            image = image + np.random.default_rng((self.seed, t)).normal(0, self.noise, image.shape)
        grey = np.clip(image, 0, 1)
        rgb = np.repeat(grey[..., None], 3, axis=2)
        return np.round(rgb * 255).astype(np.uint8) if self.uint8 else rgb.astype(np.float32)

    def __iter__(self) -> Iterator[np.ndarray]:
        for t in range(self.frames):
            yield self.frame(t)

    def __len__(self) -> int:
        return self.frames


def _texture(rng: np.random.Generator, size: tuple[int, int], sigma: float = 1.5) -> np.ndarray:
    """Band-limited random texture in about [0.15, 0.85]."""
    noise = ndimage.gaussian_filter(rng.normal(size=size), sigma, mode="wrap")
    return np.clip(0.5 + 0.35 * noise / (3 * noise.std()), 0, 1)


def estimator_accuracy(
    estimator: str = "phase", frames: int = 90, amplitudes=(0.3, 0.1), uint8: bool = True, noise: float = 0.0, seed: int = 0
) -> dict:
    """Errors of an estimator on the two-patch scene (no shake), as docs/analysis.md reports them.

    Patch A moves ``amplitudes[0]`` px at 1.2 Hz along x, patch B ``amplitudes[1]`` px at 7 Hz
    along y, 240x160 at 30 fps, quantised to 8 bits (``uint8``), with Gaussian pixel noise of std
    ``noise`` (on the [0, 1] scale) if asked. Returns the RMS per-frame error of each patch's measured
    displacement (px), the RMS of the still background's, each peak's amplitude over the truth,
    and the seconds per frame.
    """
    from motionmag.analysis.analyzer import analyze

    a = Patch((30, 40, 64, 64), amplitudes[0], 1.2, 0.0)
    b = Patch((140, 40, 64, 64), amplitudes[1], 7.0, 90.0)
    clip = SyntheticClip(patches=[a, b], frames=frames, uint8=uint8, noise=noise, seed=seed)
    rois = ["%d,%d,%d,%d" % a.inner(), "%d,%d,%d,%d" % b.inner(), "8,116,224,36"]
    result = analyze(clip, clip.fps, rois, estimator=estimator)
    rms = lambda e: float(np.sqrt((np.asarray(e) ** 2).sum(axis=1).mean()))  # noqa: E731
    out = {"estimator": estimator, "frames": frames, "amplitudes": list(amplitudes), "noise": noise, "seconds_per_frame": result.seconds / frames}
    for name, region, index, patch in (("A", result.regions[0], 0, a), ("B", result.regions[1], 1, b)):
        out[f"rms_error_{name}"] = rms(region.series - clip.motion(index))
        peak = region.peaks[0] if region.peaks else None
        out[f"gain_{name}"] = peak.amplitude / patch.amplitude if peak else float("nan")
    out["rms_still"] = rms(result.regions[2].series)
    return out
