"""FlowMag's generator: a UNet that takes a reference frame, a frame and an alpha encoding, and
returns the frame with its motion from the reference magnified alpha times
(docs/flowmag.md#the-original-generator).

    generator = FlowMagGenerator()                      # 17,287,683 parameters (width 64)
    out = generator(frame0, frame_t, alpha=8.0)         # (B, 3, H, W) RGB in [0, 1]
    out = generator(frame0, frame_t, alpha=8.0, mask=m) # targeted: PE(alpha) inside, PE(1) outside

Module names follow the original (milesial's UNet parts inside ``down_layers``/``up_layers``) so
that the released checkpoints load after dropping their ``module.generator.`` prefix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

# The original writes 2 * 3.141592, not 2 * pi; kept so released checkpoints see the same input.
_TWO_PI = 2 * 3.141592


@dataclass(frozen=True)
class GeneratorConfig:
    """width: channels of the first level (the paper's ndf, 64); levels: UNet depth (5 = four
    downsamplings); pos_dim: size of the alpha encoding."""

    width: int = 64
    levels: int = 5
    pos_dim: int = 32

    def to_dict(self) -> dict:
        return asdict(self)


def alpha_encoding(alpha: torch.Tensor, pos_dim: int = 32) -> torch.Tensor:
    """(B,) alphas -> (B, pos_dim) sinusoids sin(2 pi alpha / lambda), lambda geometric 1/8 .. 128."""
    wavelengths = torch.logspace(-3, 7, pos_dim, base=2, device=alpha.device, dtype=torch.float32)
    return torch.sin(_TWO_PI * alpha.float()[:, None] / wavelengths[None, :])


def alpha_map(alpha: torch.Tensor, size: tuple[int, int], pos_dim: int = 32, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The (B, pos_dim, H, W) encoding planes; with ``mask`` (B or 1, 1, H, W) in [0, 1] the
    planes blend PE(alpha) where the mask is 1 with PE(1), the identity, where it is 0."""
    b = alpha.shape[0]
    pe = alpha_encoding(alpha, pos_dim)[:, :, None, None].expand(b, pos_dim, *size)
    if mask is None:
        return pe
    identity = alpha_encoding(torch.ones_like(alpha), pos_dim)[:, :, None, None].expand_as(pe)
    return torch.lerp(identity, pe, mask.to(pe.dtype).expand_as(pe))  # exactly PE(alpha) where mask is 1


class DoubleConv(nn.Sequential):
    """(3x3 conv, BatchNorm, ReLU) x 2."""

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int | None = None):
        mid_channels = mid_channels or out_channels
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """2x2 max-pool, then DoubleConv: (B, C_in, H, W) -> (B, C_out, H/2, W/2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """Bilinear x2, pad to the skip's size, concatenate [skip, x], DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        dy, dx = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        if dy or dx:
            x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class OutConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UNet(nn.Module):
    """milesial's UNet with bilinear upsampling, as configured by FlowMag (``levels`` = num_layers)."""

    def __init__(self, in_channels: int, out_channels: int, width: int = 64, levels: int = 5):
        super().__init__()
        self.down_layers = nn.ModuleList([DoubleConv(in_channels, width)])
        for i in range(1, levels):
            channels = width * 2**i
            last = i == levels - 1  # bilinear: the bottleneck keeps the channel count
            self.down_layers.append(Down(channels // 2, channels // 2 if last else channels))
        self.up_layers = nn.ModuleList()
        for i in range(levels - 1):
            channels = width * 2 ** (levels - 1 - i)
            last = i == levels - 2
            self.up_layers.append(Up(channels, channels // 2 if last else channels // 4))
        self.up_layers.append(OutConv(width, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.down_layers:
            x = layer(x)
            skips.append(x)
        x = skips.pop()  # the bottleneck
        for layer, skip in zip(self.up_layers[:-1], reversed(skips)):
            x = layer(x, skip)
        return self.up_layers[-1](x)


class FlowMagGenerator(nn.Module):
    """(frame0, frame_t, alpha[, mask]) -> magnified frame_t, RGB in [0, 1] (a sigmoid output).

    Inputs are (B, 3, H, W) in [0, 1], any H and W: they are padded (reflecting) to a multiple of
    2**(levels-1) so every level sees the geometry it was trained on, and the output is cropped back.
    """

    def __init__(self, config: GeneratorConfig | None = None, **overrides):
        super().__init__()
        config = config or GeneratorConfig(**overrides)
        self.config = config
        # 2 frames x 3 channels, interleaved channel-major (R0 R1 G0 G1 B0 B1), + the alpha planes
        self.generator = UNet(2 * 3 + config.pos_dim, 3, config.width, config.levels)

    @property
    def multiple(self) -> int:
        return 2 ** (self.config.levels - 1)

    def forward(self, frame0: torch.Tensor, frame_t: torch.Tensor, alpha: torch.Tensor | float,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        b, _, h, w = frame_t.shape
        if frame0.shape[0] == 1 and b > 1:
            frame0 = frame0.expand(b, -1, -1, -1)
        if not torch.is_tensor(alpha):
            alpha = torch.full((b,), float(alpha), device=frame_t.device)
        frames = torch.stack([frame0, frame_t], dim=2).flatten(1, 2)  # (B, 6, H, W), channel-major
        if mask is not None:
            mask = mask.reshape(-1, 1, h, w)
        x = torch.cat([frames, alpha_map(alpha, (h, w), self.config.pos_dim, mask).to(frames.dtype)], dim=1)
        pad_h, pad_w = -h % self.multiple, -w % self.multiple
        if pad_h or pad_w:
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        return torch.sigmoid(self.generator(x))[..., :h, :w]
