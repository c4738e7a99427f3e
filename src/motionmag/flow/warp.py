"""Backward warping with a dense flow field."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def backward_warp(image: torch.Tensor, flow: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
    """Sample ``image`` at x + flow(x): returns (B, C, H, W) with out(x) = image(x + flow(x)).

    image: (B, C, H, W); flow: (B, 2, H, W) in pixels, x then y. Differentiable in both.
    """
    _, _, h, w = image.shape
    # at least float32: bf16 coordinates (amp) would be off by up to half a pixel
    dtype = torch.promote_types(torch.promote_types(image.dtype, flow.dtype), torch.float32)
    ys, xs = torch.meshgrid(
        torch.arange(h, device=image.device, dtype=dtype),
        torch.arange(w, device=image.device, dtype=dtype),
        indexing="ij",
    )
    x = xs + flow[:, 0].to(dtype)
    y = ys + flow[:, 1].to(dtype)
    # align_corners=True maps -1 and 1 to the centres of the outermost pixels
    grid = torch.stack((2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1), dim=-1)
    warped = F.grid_sample(image.to(dtype), grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)
    return warped.to(image.dtype)
