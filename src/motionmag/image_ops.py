"""Small image operations shared by the flow estimators, the methods and the metrics."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def gaussian_kernel1d(sigma: float, dtype=torch.float32, device=None, radius: int | None = None) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma)) if radius is None else radius
    t = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W) with replicate borders, kernel radius ceil(3σ)."""
    if sigma <= 0:
        return x
    if x.device.type == "cpu" and x.dtype == torch.float32 and not (torch.is_grad_enabled() and x.requires_grad):
        return _gaussian_blur_opencv(x, sigma)
    kernel = gaussian_kernel1d(sigma, x.dtype, x.device)
    radius, c = kernel.numel() // 2, x.shape[1]
    x = F.pad(x, (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.pad(x, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _gaussian_blur_opencv(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """The same blur through OpenCV: about 6x faster than torch's convolution on the CPU (bench/)."""
    images = x.detach().contiguous().numpy().reshape(-1, *x.shape[-2:])
    out = np.empty_like(images)
    size = 2 * max(1, math.ceil(3 * sigma)) + 1
    for image, result in zip(images, out):
        cv2.GaussianBlur(image, (size, size), sigma, dst=result, borderType=cv2.BORDER_REPLICATE)
    return torch.from_numpy(out.reshape(x.shape))
