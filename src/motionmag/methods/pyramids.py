"""Laplacian pyramid (Burt & Adelson 1983): any size, exact reconstruction; torch on CUDA (and
for autograd), OpenCV on the CPU."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

_BINOMIAL5 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur_down(x: torch.Tensor) -> torch.Tensor:
    """5-tap binomial blur then keep every second pixel: (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2))."""
    c = x.shape[1]
    k = _BINOMIAL5.to(x)
    x = F.pad(x, (2, 2, 0, 0), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, 5).expand(c, 1, 1, 5), stride=(1, 2), groups=c)
    x = F.pad(x, (0, 0, 2, 2), mode="replicate")
    return F.conv2d(x, k.view(1, 1, 5, 1).expand(c, 1, 5, 1), stride=(2, 1), groups=c)


def _upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Zero-insertion and binomial interpolation back to ``size`` (a constant stays constant, borders too)."""
    c = x.shape[1]
    k = (_BINOMIAL5 * 2).to(x)
    x = F.pad(x, (1, 1, 1, 1), mode="replicate")
    x = F.conv_transpose2d(x, k.view(1, 1, 1, 5).expand(c, 1, 1, 5), stride=(1, 2), groups=c)
    x = F.conv_transpose2d(x, k.view(1, 1, 5, 1).expand(c, 1, 5, 1), stride=(2, 1), groups=c)
    # the padded input's first sample lands at output index 2 * 1 + 2 = 4 after the 5-tap transpose
    return x[..., 4 : 4 + size[0], 4 : 4 + size[1]]


def max_levels(height: int, width: int, smallest: int = 8) -> int:
    return max(1, int(math.floor(math.log2(min(height, width) / smallest))) + 1)


def _use_opencv(x: torch.Tensor) -> bool:
    return x.device.type == "cpu" and x.dtype == torch.float32 and not (torch.is_grad_enabled() and x.requires_grad)


def _laplacian_opencv(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """The same pyramid through cv2.pyrDown / pyrUp (same 5-tap kernel, mirrored borders), one
    plane at a time: several times faster than torch's grouped convolutions on the CPU."""
    import cv2

    planes = x.detach().contiguous().numpy().reshape(-1, *x.shape[-2:])
    bands_per_plane = []
    for plane in planes:
        bands, g = [], plane
        for _ in range(levels - 1):
            down = cv2.pyrDown(g)
            bands.append(g - cv2.pyrUp(down, dstsize=(g.shape[1], g.shape[0])))
            g = down
        bands.append(g)
        bands_per_plane.append(bands)
    return [torch.from_numpy(np.stack(level).reshape(*x.shape[:-2], *level[0].shape)) for level in zip(*bands_per_plane)]


def _collapse_opencv(pyramid: list[torch.Tensor]) -> torch.Tensor:
    import cv2

    lead = pyramid[0].shape[:-2]
    levels = [p.contiguous().numpy().reshape(-1, *p.shape[-2:]) for p in pyramid]
    out = []
    for i in range(levels[0].shape[0]):
        g = levels[-1][i]
        for band in reversed(levels[:-1]):
            g = band[i] + cv2.pyrUp(g, dstsize=(band.shape[2], band.shape[1]))
        out.append(g)
    return torch.from_numpy(np.stack(out).reshape(*lead, *pyramid[0].shape[-2:]))


def build_laplacian(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Fine-to-coarse band-pass levels, the last one the low-pass residual."""
    if _use_opencv(x):
        return _laplacian_opencv(x, levels)
    pyramid = []
    for _ in range(levels - 1):
        down = _blur_down(x)
        pyramid.append(x - _upsample(down, x.shape[-2:]))
        x = down
    pyramid.append(x)
    return pyramid


def collapse_laplacian(pyramid: list[torch.Tensor]) -> torch.Tensor:
    if _use_opencv(pyramid[0]):
        return _collapse_opencv(pyramid)
    x = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        x = band + _upsample(x, band.shape[-2:])
    return x
