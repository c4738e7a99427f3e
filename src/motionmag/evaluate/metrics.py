"""Metrics of magnification quality.

FlowMag's two flow-based metrics (docs/flowmag.md#the-original-evaluation), with F an evaluation flow model,
fs = F(I0, I1) the input motion and fp = F(I0, Ĩ1) the motion of the magnified frame:

- motion error        = mean |fp - alpha * fs|  over pixels and both components (px; grows with alpha)
- magnification error = mean | ||fp|| / (||fs|| + 1e-4) - alpha |  over pixels (unit-free)

plus SSIM (Wang et al. 2004, Gaussian window sigma 1.5, as scikit-image's ``gaussian_weights=True``)
and PSNR against a ground-truth magnified frame, and the measured amplification of a region whose
true input motion is known.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from motionmag.image_ops import gaussian_kernel1d


def motion_error(fp: torch.Tensor, fs: torch.Tensor, alpha: float) -> torch.Tensor:
    """Per-sample motion error (B,) from flows (B, 2, H, W)."""
    return (fp - alpha * fs).abs().mean(dim=(1, 2, 3))


def magnification_error(fp: torch.Tensor, fs: torch.Tensor, alpha: float, eps: float = 1e-4) -> torch.Tensor:
    """Per-sample magnification error (B,) from flows (B, 2, H, W)."""
    ratio = fp.norm(dim=1) / (fs.norm(dim=1) + eps)
    return (ratio - alpha).abs().mean(dim=(1, 2))


PSNR_CAP_DB = 100.0


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-sample PSNR (B,) in dB of (B, C, H, W) images, capped at 100 dB (identical images would
    give inf, which would make every mean over frames inf too)."""
    mse = (a.double() - b.double()).pow(2).mean(dim=(1, 2, 3)).clamp_min(data_range**2 * 10 ** (-PSNR_CAP_DB / 10))
    return (10 * torch.log10(data_range**2 / mse)).float()


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, sigma: float = 1.5) -> torch.Tensor:
    """Per-sample SSIM (B,) of (B, C, H, W) images, averaged over channels.

    Matches ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=-1)``: 11-tap Gaussian window,
    reflected borders, then the (window - 1) / 2 pixels next to the border left out of the mean.
    """
    a, b = a.double(), b.double()
    radius = int(3.5 * sigma + 0.5)
    kernel = gaussian_kernel1d(sigma, torch.float64, a.device, radius=radius)
    c = a.shape[1]

    def blur(x):
        x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
        x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    s = s[..., radius:-radius, radius:-radius]
    return s.mean(dim=(1, 2, 3)).float()


def region_displacement(flow: torch.Tensor, region: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Mean flow (B, 2) over a boolean (H, W) region."""
    region = torch.as_tensor(region, dtype=torch.bool, device=flow.device)
    return flow[:, :, region].mean(dim=-1)


def measured_amplification(measured: np.ndarray, true_input: np.ndarray) -> float:
    """Least-squares gain g in measured ≈ g * true_input, over (T, 2) displacement series.

    On a clip whose region moves by a known true_input(t), with measured(t) the displacement
    estimated in the magnified output, g is the amplification actually achieved (alpha if perfect).
    """
    measured, true_input = np.asarray(measured, np.float64), np.asarray(true_input, np.float64)
    energy = float((true_input**2).sum())
    return float((measured * true_input).sum() / energy) if energy > 0 else math.nan


def summarize(values: list[float], ddof: int = 1, skip_nan: bool = True) -> tuple[float, float, float]:
    """mean, standard deviation and standard error of the mean (NaN when undefined).

    The defaults (the corrected protocol) drop NaN values and take the sample standard deviation
    (ddof 1; 0 for a single value). FlowMag's eval.py (the paper protocol: ``ddof=0,
    skip_nan=False``) prints NumPy's population std over every value, so one NaN pair makes all
    three NaN. Its standard error (myutils.AverageMeter) takes the sample std whatever ``ddof``:
    std(ddof=1) / sqrt(n), NaN for a single value.
    """
    v = np.asarray([float(x) for x in values if not (skip_nan and math.isnan(x))], np.float64)
    if not len(v):
        return math.nan, math.nan, math.nan
    std = float(v.std(ddof=ddof)) if len(v) > ddof else 0.0
    if ddof == 0 and not skip_nan:  # the paper protocol: AverageMeter's se
        sem = float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else math.nan
    else:
        sem = std / math.sqrt(len(v))
    return float(v.mean()), std, sem
