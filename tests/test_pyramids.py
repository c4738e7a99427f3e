"""Pyramids reconstruct exactly; every method is the identity at alpha = 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from motionmag.methods import get_magnifier
from motionmag.methods.pyramids import build_laplacian, collapse_laplacian
from motionmag.methods.steerable import ComplexSteerablePyramid


@pytest.mark.parametrize("size", [(37, 53), (64, 64), (17, 90)])
def test_laplacian_pyramid_reconstructs_exactly(size):
    x = torch.rand(1, 3, *size, dtype=torch.float64)
    assert torch.allclose(collapse_laplacian(build_laplacian(x, 4)), x, atol=1e-12)


@pytest.mark.parametrize("size", [(64, 80), (61, 77)])
@pytest.mark.parametrize("orientations,per_octave", [(4, 1), (8, 1), (6, 2)])
def test_steerable_pyramid_is_a_tight_frame(size, orientations, per_octave):
    h, w = size
    pyramid = ComplexSteerablePyramid(h, w, orientations=orientations, filters_per_octave=per_octave)
    y, x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    # a mid-frequency pattern lies entirely inside the bands: the bands alone give it back
    pattern = torch.cos(2 * math.pi * (x * 6 / w + y * 5 / h)).float()[None]
    bands, _ = pyramid.decompose(pattern)
    assert torch.allclose(pyramid.reconstruct_delta(bands), pattern, atol=1e-4)
    # bands + low-pass reconstruct everything below the high-pass residual: a smooth image
    smooth = torch.from_numpy(np.outer(np.hanning(h), np.hanning(w))).float()[None]
    bands, low = pyramid.decompose(smooth)
    assert torch.allclose(pyramid.reconstruct_delta(bands, low), smooth, atol=1e-4)


@pytest.mark.parametrize("method", ["linear", "phase"])
@pytest.mark.parametrize("mode", ["static", "temporal"])
def test_alpha_one_is_the_identity(method, mode):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (33, 47, 3), dtype=np.uint8) for _ in range(5)]
    settings = dict(mode=mode, band=(1.0, 4.0), fps=30.0) if mode == "temporal" else dict(mode=mode)
    out = list(get_magnifier(method, **settings).magnify(frames, 1.0))
    assert len(out) == len(frames)
    assert all(np.array_equal(a, b) for a, b in zip(frames, out))
