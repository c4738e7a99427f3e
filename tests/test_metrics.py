"""Metrics against hand-computed values, and evaluate_clip on a clip with known motion."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from conftest import make_renderer
from motionmag.evaluate import (
    evaluate_alphas,
    evaluate_clip,
    magnification_error,
    measured_amplification,
    motion_error,
    psnr,
    ssim,
)
from motionmag.flow import get_flow_model


def _flow(u, v, h=2, w=2):
    f = torch.zeros(1, 2, h, w)
    f[:, 0], f[:, 1] = u, v
    return f


def test_motion_error_by_hand():
    fs = _flow(1.0, 0.0)
    fp = _flow(3.0, 1.0)
    # |3 - 2*1| = 1 on x, |1 - 0| = 1 on y -> mean 1
    assert motion_error(fp, fs, 2.0).item() == pytest.approx(1.0)
    assert motion_error(_flow(2.0, 0.0), fs, 2.0).item() == pytest.approx(0.0)


def test_magnification_error_by_hand():
    fs = _flow(3.0, 4.0)  # |fs| = 5
    fp = _flow(6.0, 8.0)  # |fp| = 10 -> ratio 10 / (5 + 1e-4)
    expected = abs(10 / (5 + 1e-4) - 3.0)
    assert magnification_error(fp, fs, 3.0).item() == pytest.approx(expected, rel=1e-5)
    # still pixels: the ratio is 0 / 1e-4 = 0, so the error is alpha there (FlowMag's definition)
    assert magnification_error(_flow(0.0, 0.0), _flow(0.0, 0.0), 4.0).item() == pytest.approx(4.0)


def test_psnr_by_hand():
    a = torch.zeros(1, 3, 4, 4)
    b = torch.full((1, 3, 4, 4), 0.1)
    assert psnr(a, b).item() == pytest.approx(20.0, abs=1e-4)
    assert psnr(a, a).item() == pytest.approx(100.0)  # capped, so means over frames stay finite


def test_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.random((40, 50, 3))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    expected = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)
    to_t = lambda x: torch.from_numpy(x).permute(2, 0, 1)[None]  # noqa: E731
    assert ssim(to_t(a), to_t(b)).item() == pytest.approx(expected, abs=1e-5)
    assert ssim(to_t(a), to_t(a)).item() == pytest.approx(1.0)


def test_measured_amplification_by_hand():
    true = np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.1]])
    assert measured_amplification(4 * true, true) == pytest.approx(4.0)
    assert math.isnan(measured_amplification(true, np.zeros_like(true)))


def test_evaluate_clip_on_the_ground_truth_is_perfect():
    renderer = make_renderer(amplitude=0.25, frames=5)
    alpha = 4.0
    inputs, truths = list(renderer.frames()), list(renderer.frames(alpha))
    obj_region, bg_region = renderer.regions(margin=12)
    obj, bg = renderer.displacements()
    result = evaluate_clip(inputs, truths, alpha, {"lk": get_flow_model("lk")}, truths=truths,
                           regions={"object": (obj_region, obj), "background": (bg_region, bg)})["lk"]
    assert result["pairs"] == 4
    assert result["ssim"] == pytest.approx(1.0) and result["psnr"] == pytest.approx(100.0)
    assert result["amplification_object"] == pytest.approx(alpha, rel=0.05)
    assert result["residual_px_background"] < 0.05
    unmagnified = evaluate_clip(inputs, inputs, alpha, {"lk": get_flow_model("lk")}, truths=truths,
                                regions={"object": (obj_region, obj)})["lk"]
    assert unmagnified["amplification_object"] == pytest.approx(1.0, rel=0.1)
    assert unmagnified["motion_error"] > result["motion_error"]
    assert unmagnified["ssim"] < 1.0


def test_evaluate_clip_scores_each_flow_model_as_if_alone():
    """Several flow models in one pass (frames read once, SSIM once) give each the result it
    gets on its own."""
    renderer = make_renderer(amplitude=0.25, frames=4)
    inputs, truths = list(renderer.frames()), list(renderer.frames(3.0))
    regions = {"object": (renderer.regions(margin=12)[0], renderer.displacements()[0])}
    models = {"lk": get_flow_model("lk"), "dis": get_flow_model("dis")}
    together = evaluate_clip(inputs, truths, 3.0, models, truths=truths, regions=regions)
    for name, model in models.items():
        alone = evaluate_clip(inputs, truths, 3.0, {name: model}, truths=truths, regions=regions)[name]
        assert together[name] == alone
    assert together["lk"]["motion_error"] != together["dis"]["motion_error"]


def test_evaluate_alphas_scores_each_alpha_as_if_alone():
    """Several magnifications of one clip in one pass (the input's motion estimated once) give
    each alpha exactly the result it gets on its own, under every flow model."""
    renderer = make_renderer(amplitude=0.25, frames=4)
    inputs = list(renderer.frames())
    alphas = (2.0, 5.0)
    outputs = {alpha: list(renderer.frames(alpha * 0.9)) for alpha in alphas}  # a little under
    truths = {alpha: list(renderer.frames(alpha)) for alpha in alphas}
    regions = {"object": (renderer.regions(margin=12)[0], renderer.displacements()[0])}
    models = {"lk": get_flow_model("lk"), "dis": get_flow_model("dis")}
    together = evaluate_alphas(inputs, outputs, models, truths=truths, regions=regions)
    assert list(together) == list(alphas)
    for alpha in alphas:
        alone = evaluate_clip(inputs, outputs[alpha], alpha, models, truths=truths[alpha], regions=regions)
        assert together[alpha] == alone
    assert together[2.0]["lk"]["amplification_object"] != together[5.0]["lk"]["amplification_object"]
    without_truth = evaluate_alphas(inputs, outputs, models)
    assert math.isnan(without_truth[2.0]["lk"]["ssim"]) and not math.isnan(without_truth[2.0]["lk"]["motion_error"])
