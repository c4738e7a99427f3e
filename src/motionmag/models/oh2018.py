"""Oh et al. 2018's learning-based magnifier: encoder, manipulator, decoder
(docs/oh2018.md#the-original-architecture).

    net = OhMagNet()                                   # 918,928 parameters, the official config
    out = net(frame_a, frame_b, alpha=10.0)            # (B, 3, H, W) RGB in [0, 1], any H, W

Exactly the official TensorFlow configuration (``o3f_hmhm2_bg_qnoise_mix4_nl_n_t_ds3``): no conv
biases, no normalisation, reflect padding except the two stride-2 convolutions (TF 'SAME', zeros
at the bottom and right), truncated-normal(0.02) initialisation, images in [-1, 1] inside. The
manipulator is ``Mb + h((alpha - 1) g(Mb - Ma))``, so alpha 1 returns Mb unchanged and the output
is the autoencoded frame B. Frames whose sides are not multiples of 4 are reflect-padded and
cropped back (the original crashes on them). Under autocast only the decoder runs in bf16 (see
:func:`full_precision`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MULTIPLE = 4  # the texture is at 1/4 resolution, the shape at 1/2


def full_precision(device: torch.device):
    """Autocast off: the shape maps' differences are sub-pixel motion, and (alpha - 1) scales them
    up to 100 times, so the encoder and manipulator stay float32 (bf16 rounding would be
    magnified); the decoder, about 70 % of the work, may run in bf16."""
    return torch.autocast(device.type, enabled=False)


def _conv(in_channels: int, out_channels: int, kernel: int) -> nn.Sequential:
    """Reflect-padded, bias-free, stride-1 convolution (the TF code pads by hand, then 'VALID')."""
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(in_channels, out_channels, kernel, bias=False))


class DownConv(nn.Module):
    """3x3 stride-2 convolution with TF 'SAME' padding: zero rows and columns at the bottom and
    right only (torch's symmetric padding would shift the grid by half a pixel)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class ResBlock(nn.Sequential):
    """x + conv3x3(relu(conv3x3(x))), reflect-padded; no activation after the sum."""

    def __init__(self, channels: int):
        super().__init__(_conv(channels, channels, 3), nn.ReLU(inplace=True), _conv(channels, channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + super().forward(x)


def _res_blocks(channels: int, n: int) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(channels) for _ in range(n)))


class Encoder(nn.Module):
    """(B, 3, H, W) -> texture (B, 32, H/4, W/4) and shape (B, 32, H/2, W/2)."""

    def __init__(self, width: int = 32, trunk_blocks: int = 3, branch_blocks: int = 2):
        super().__init__()
        self.stem = nn.Sequential(
            _conv(3, width // 2, 7), nn.ReLU(inplace=True),  # full resolution, 16 channels
            DownConv(width // 2, width), nn.ReLU(inplace=True),  # 1/2
            _res_blocks(width, trunk_blocks),
        )
        self.texture = nn.Sequential(DownConv(width, width), nn.ReLU(inplace=True), _res_blocks(width, branch_blocks))
        self.shape = _res_blocks(width, branch_blocks)  # no conv: use_shape_conv is off in the official config

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)
        return self.texture(x), self.shape(x)


class Manipulator(nn.Module):
    """Mb + h((alpha - 1) g(Mb - Ma)), g = 7x7 conv + ReLU, h = 3x3 conv + one residual block."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.g = nn.Sequential(_conv(width, width, 7), nn.ReLU(inplace=True))
        self.h = nn.Sequential(_conv(width, width, 3), ResBlock(width))

    def delta(self, difference: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """h((alpha - 1) g(difference)); alpha (B,) or a scalar tensor."""
        scale = (alpha.to(difference.dtype) - 1).reshape(-1, 1, 1, 1)
        return self.h(scale * self.g(difference))

    def forward(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return shape_b + self.delta(shape_b - shape_a, alpha)


class Decoder(nn.Module):
    """texture (B, 32, H/4, W/4) + shape (B, 32, H/2, W/2) -> (B, 3, H, W) in [-1, 1] (unclipped)."""

    def __init__(self, width: int = 32, blocks: int = 9):
        super().__init__()
        self.texture_up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(width, width, 3), nn.ReLU(inplace=True))
        self.blocks = _res_blocks(2 * width, blocks)
        self.out = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),  # nearest + conv: no checkerboard
            _conv(2 * width, width, 3), nn.ReLU(inplace=True),
            _conv(width, 3, 7),
        )

    def forward(self, texture: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(torch.cat([self.texture_up(texture), shape], dim=1)))


class OhMagNet(nn.Module):
    """The whole network. Images in and out are RGB in [0, 1]; alpha is a float or a (B,) tensor."""

    multiple = MULTIPLE

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.manipulator = Manipulator()
        self.decoder = Decoder()
        for module in self.modules():
            if isinstance(module, nn.Conv2d):  # TF's truncated normal: within two sigma
                nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)

    # Inference works in pieces (encode each frame once, filter shapes over time); training and
    # the plain two-frame call go through forward.
    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> [-1, 1], reflect-padded to a multiple of 4."""
        h, w = x.shape[-2:]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        x = x * 2 - 1
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        return x

    @staticmethod
    def unpad(y: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """[-1, 1] -> [0, 1] in float32, cropped to ``size`` (unclipped: the loss sees the raw output)."""
        return (y[..., : size[0], : size[1]].float() + 1) / 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) in [0, 1] -> texture, shape of the padded frame."""
        return self.encoder(self.pad(x))

    def decode(self, texture: torch.Tensor, shape: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.unpad(self.decoder(texture, shape), size)

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, alpha, others: torch.Tensor | None = None):
        """Magnify B's motion from A by ``alpha``. With ``others`` (B, K, 3, H, W), frames that are
        only encoded (for the representation losses), also return every texture and shape:
        a dict of output (B, 3, H, W), textures and shapes (B, 2 + K, C, h, w), in a, b, others order."""
        b, size = frame_a.shape[0], frame_a.shape[-2:]
        alpha = torch.as_tensor(alpha, dtype=torch.float32, device=frame_a.device).expand(b)
        frames = [frame_a, frame_b] if others is None else [frame_a, frame_b, *others.unbind(1)]
        with full_precision(frame_a.device):
            textures, shapes = self.encode(torch.cat(frames).float())  # one batched encoder pass
            texture_b, shape_a, shape_b = textures[b : 2 * b], shapes[:b], shapes[b : 2 * b]
            manipulated = self.manipulator(shape_a, shape_b, alpha)
        output = self.decode(texture_b, manipulated, size)  # bf16 under the caller's autocast
        if others is None:
            return output
        n = len(frames)
        return dict(output=output, textures=textures.unflatten(0, (n, b)).transpose(0, 1),
                    shapes=shapes.unflatten(0, (n, b)).transpose(0, 1))
