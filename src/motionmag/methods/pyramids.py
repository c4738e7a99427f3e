"""Laplacian pyramid (Burt & Adelson 1983) in torch: any size, CPU or CUDA, exact reconstruction."""

from __future__ import annotations

import math

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


def build_laplacian(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Fine-to-coarse band-pass levels, the last one the low-pass residual."""
    pyramid = []
    for _ in range(levels - 1):
        down = _blur_down(x)
        pyramid.append(x - _upsample(down, x.shape[-2:]))
        x = down
    pyramid.append(x)
    return pyramid


def collapse_laplacian(pyramid: list[torch.Tensor]) -> torch.Tensor:
    x = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        x = band + _upsample(x, band.shape[-2:])
    return x
