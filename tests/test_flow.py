"""motionmag.flow: registry, accuracy on known sub-pixel motion, differentiable Lucas–Kanade."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage import data

from motionmag.errors import MotionmagError
from motionmag.flow import backward_warp, get_flow_model, list_flow_models
from motionmag.flow.lucas_kanade import lucas_kanade


def _translated_pair(dx, dy, size=192):
    """img1 is img0's content moved by (dx, dy): the true flow img0 -> img1 is (dx, dy) everywhere."""
    img0 = data.astronaut()[100 : 100 + size, 150 : 150 + size].astype(np.float32) / 255
    img0 = ndimage.gaussian_filter(img0, (1, 1, 0))
    img1 = np.stack([ndimage.shift(img0[..., c], (dy, dx), order=3, mode="mirror") for c in range(3)], -1)
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]  # noqa: E731
    return to_t(img0), to_t(img1)


def test_registry_lists_the_weight_free_models():
    assert {"dis", "farneback", "lk"} <= set(list_flow_models())
    with pytest.raises(MotionmagError, match="unknown flow model"):
        get_flow_model("nope")


# (bias of the mean flow, mean end-point error) bounds, relative to |shift| (at least 1 px).
# Measured on this crop: DIS 0.01 / 0.05, LK 0.02 / 0.11, Farnebäck 0.25 / 0.44 (it shrinks flow).
BOUNDS = {"dis": (0.02, 0.07), "lk": (0.03, 0.13), "farneback": (0.3, 0.5)}


@pytest.mark.parametrize("name", ["dis", "lk", "farneback"])
@pytest.mark.parametrize("shift", [(0.3, -0.2), (1.5, 0.7)])
def test_end_point_error_on_a_known_subpixel_translation(name, shift):
    img0, img1 = _translated_pair(*shift)
    flow = get_flow_model(name)(img0, img1)
    assert flow.shape == (1, 2, 192, 192)
    interior = flow[0, :, 24:-24, 24:-24]
    truth = torch.tensor(shift, dtype=flow.dtype).view(2, 1, 1)
    scale = max(1.0, float(np.hypot(*shift)))
    bias = (interior.mean(dim=(1, 2)) - truth.view(2)).norm().item()
    epe = (interior - truth).norm(dim=0).mean().item()
    assert bias < BOUNDS[name][0] * scale
    assert epe < BOUNDS[name][1] * scale


def test_odd_sizes_and_batches():
    x = torch.rand(2, 3, 37, 53)
    for name in ("dis", "farneback", "lk"):
        assert get_flow_model(name)(x, x).shape == (2, 2, 37, 53)


@pytest.mark.slow
def test_lucas_kanade_gradcheck():
    torch.manual_seed(0)
    a = torch.rand(1, 1, 16, 16, dtype=torch.float64, requires_grad=True)
    b = torch.rand(1, 1, 16, 16, dtype=torch.float64, requires_grad=True)
    f = lambda x, y: lucas_kanade(x, y, levels=2, warps=2, window_sigma=2.0)  # noqa: E731
    assert torch.autograd.gradcheck(f, (a, b), eps=1e-6, atol=1e-4)


def test_gradients_reach_both_inputs_but_not_the_frozen_model():
    model = get_flow_model("lk")
    assert model.differentiable and not get_flow_model("dis").differentiable
    img0, img1 = _translated_pair(0.4, 0.1, size=64)
    img0.requires_grad_(True)
    img1.requires_grad_(True)
    model(img0, img1).abs().mean().backward()
    for g in (img0.grad, img1.grad):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


def test_backward_warp_undoes_a_translation():
    img0, img1 = _translated_pair(1.0, 0.0, size=64)
    flow = torch.zeros(1, 2, 64, 64)
    flow[:, 0] = 1.0
    warped = backward_warp(img1, flow)  # warped(x) = img1(x + 1) = img0(x)
    assert (warped - img0)[..., 4:-4, 4:-4].abs().max() < 0.02
