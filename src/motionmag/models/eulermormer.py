"""EulerMormer (Wang et al., AAAI 2024, "EulerMormer: Robust Eulerian Motion Magnification via
Dynamic Filtering within Transformer"): a Restormer-style encoder, a manipulator that filters the
shape difference with top-k channel attention before magnifying it, and a transformer decoder
(docs/newer_methods.md#eulermormer).

    net = EulerMormerNet()                                  # 1,512,056 parameters, the released config
    out = net(frame_a, frame_b, alpha=20.0)                 # (B, 3, H, W) RGB in [0, 1], any H, W
    net = load_eulermormer_checkpoint("magnet_epoch99_loss5.38e-02.pth")   # loaded strictly

Module and attribute names are the original's (VUT-HFUT/EulerMormer models/magnet.py, class
``MagNet``) so its checkpoints load with ``strict=True`` once DataParallel's ``module.`` is
removed (the original's test_video.py loads with ``strict=False``, which would hide a mismatch);
modules are built in the original's order, so ``torch.manual_seed`` gives the original's initial
weights (PyTorch's default init). Convs have no bias and zero padding; width 48, 4 heads; einops'
rearranges are plain reshapes here.

Frames are RGB in [0, 1] (the network works in [-1, 1] inside) of any size: the stride-2 stem and
the x2 pixel shuffle need even sides, so odd sides are reflect-padded by one pixel and the output
is cropped back (the original returns H + 1 and resizes it back with cubic interpolation).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from motionmag.checkpoint import read_checkpoint
from motionmag.flow.weights import load_strict, unwrap_state_dict
from motionmag.models.oh2018 import full_precision

MULTIPLE = 2
DIM = 48
HEADS = 4
FFN_EXPANSION = 3
TOP_K = 7  # DMF keeps the 7 largest entries of each attention row


class WithBiasLayerNorm(nn.Module):
    """LayerNorm over the last axis, eps 1e-5, written out as the original does (mean, biased var)."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = x.mean(-1, keepdim=True)
        sigma = x.var(-1, keepdim=True, unbiased=False)
        return (x - mu) / torch.sqrt(sigma + 1e-5) * self.weight + self.bias


class LayerNorm(nn.Module):
    """(B, C, H, W) -> the same, normalised per pixel over the channels (with bias)."""

    def __init__(self, dim: int):
        super().__init__()
        self.body = WithBiasLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        y = self.body(x.flatten(2).transpose(1, 2))  # (B, HW, C)
        return y.transpose(1, 2).reshape(b, c, h, w)


class ChannelAttention(nn.Module):
    """Restormer's transposed (channel) attention; with ``top_k`` the dynamic filter DMF.

    1x1 C->3C, depthwise 3x3, split q, k, v into heads of C/heads channels, each (B, heads, C/heads,
    HW); q, k L2-normalised over HW; A = q k^T * temperature, a (C/heads)^2 matrix per head; DMF
    keeps the top_k entries of each row (the rest -inf) before the softmax; out = A v -> 1x1 C->C.
    Original: ``MDTA`` (top_k None) and ``DMF`` (top_k 7), the same parameters."""

    def __init__(self, dim: int, num_heads: int = HEADS, top_k: int | None = None):
        super().__init__()
        self.num_heads = num_heads
        self.top_k = top_k
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, kernel_size=1, bias=False)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, kernel_size=3, padding=1, groups=dim * 3, bias=False)
        self.project_out = nn.Conv2d(dim, dim, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (t.reshape(b, self.num_heads, c // self.num_heads, h * w)
                   for t in self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1)) * self.temperature  # (B, heads, C/heads, C/heads)
        if self.top_k is not None:
            keep = torch.zeros_like(attn, dtype=torch.bool).scatter_(-1, attn.topk(self.top_k, dim=-1).indices, True)
            attn = attn.masked_fill(~keep, float("-inf"))
        out = attn.softmax(dim=-1) @ v
        return self.project_out(out.reshape(b, c, h, w))


class MGR(nn.Module):
    """The gated feed-forward network: 1x1 C->6C, depthwise 3x3, split x1, x2 (3C each); x1
    through three grouped convs (C groups of 3 in -> 1 out; kernels 1, 3, 5; each + GELU),
    concatenated (3C), times GELU(x2), 1x1 3C->C."""

    def __init__(self, dim: int, expansion: float = FFN_EXPANSION):
        super().__init__()
        hidden = int(dim * expansion)
        self.project_in = nn.Conv2d(dim, hidden * 2, kernel_size=1, bias=False)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, kernel_size=3, padding=1, groups=hidden * 2, bias=False)
        self.project_out = nn.Conv2d(hidden, dim, kernel_size=1, bias=False)
        self.dwconv1 = self._grouped(hidden, 1)
        self.dwconv3 = self._grouped(hidden, 3)
        self.dwconv5 = self._grouped(hidden, 5)
        self.act_x2 = nn.GELU()

    @staticmethod
    def _grouped(hidden: int, kernel: int) -> nn.Sequential:
        groups = hidden // 3
        return nn.Sequential(nn.Conv2d(hidden, groups, kernel, padding=kernel // 2, groups=groups, bias=False), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        x1 = torch.cat([self.dwconv1(x1), self.dwconv3(x1), self.dwconv5(x1)], dim=1)
        return self.project_out(x1 * self.act_x2(x2))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN x), then x + MGR(LN x). ``top_k`` None: the
    encoder's block (original ``DR_Encoder``, MDTA); 7: ``Dynamic_TransformerBlock`` (DMF)."""

    def __init__(self, dim: int, top_k: int | None = None):
        super().__init__()
        self.norm1 = LayerNorm(dim)
        self.attn = ChannelAttention(dim, HEADS, top_k)
        self.norm2 = LayerNorm(dim)
        self.mgr = MGR(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mgr(self.norm2(x))


class PatchEmbed(nn.Module):
    """(B, 3, H, W) -> (B, 48, H/2, W/2): a 3x3 stride-2 conv, zero pad 1. Original: ``OverlapPatchEmbed``."""

    def __init__(self, dim: int = DIM):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=3, stride=2, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class Encoder(nn.Module):
    """(B, 3, H, W) in [-1, 1] -> texture V and shape M, each (B, 48, H/2, W/2): the stem, then
    two separate stacks of 2 MDTA blocks."""

    def __init__(self, dim: int = DIM):
        super().__init__()
        self.patch_embed = PatchEmbed(dim)
        self.texture_encoder = nn.Sequential(*(Block(dim) for _ in range(2)))
        self.motion_encoder = nn.Sequential(*(Block(dim) for _ in range(2)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.patch_embed(x)
        return self.texture_encoder(x), self.motion_encoder(x)


class PEM(nn.Module):
    """GELU(1x1((alpha - 1) * GELU(1x1 x))): bounded below at about -0.17 per channel."""

    def __init__(self, dim: int = DIM):
        super().__init__()
        self.nonlinear1 = nn.Sequential(nn.Conv2d(dim, dim, kernel_size=1, bias=False), nn.GELU())
        self.nonlinear2 = nn.Sequential(nn.Conv2d(dim, dim, kernel_size=1, bias=False), nn.GELU())

    def forward(self, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return self.nonlinear2((alpha - 1) * self.nonlinear1(x))


class Manipulator(nn.Module):
    """M_B + PEM(LN(DMF x2 (M_B - M_A)), alpha). With trained LN biases, identical frames still
    get a non-zero (alpha - 1)-scaled increment."""

    def __init__(self, dim: int = DIM):
        super().__init__()
        self.dynamic_filter = nn.Sequential(*(Block(dim, TOP_K) for _ in range(2)))
        self.mag = PEM(dim)
        self.norm = LayerNorm(dim)

    def delta(self, difference: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """The increment for a shape difference (B, 48, h, w); alpha (B, 1, 1, 1)."""
        return self.mag(self.norm(self.dynamic_filter(difference)), alpha)

    def forward(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return shape_b + self.delta(shape_b - shape_a, alpha)


class Upsample(nn.Module):
    """(B, 96, h, w) -> (B, 48, 2h, 2w): 3x3 conv 96->192, PixelShuffle(2)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels * 2, kernel_size=3, padding=1, bias=False), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Decoder(nn.Module):
    """V (B, 48, h, w), M (B, 48, h, w) -> (B, 3, 2h, 2w) in [-1, 1] (unclipped): concat 96 ->
    8 DMF blocks at 96 (24 channels per head) -> :class:`Upsample` -> 3x3 conv 48->3."""

    def __init__(self, dim: int = DIM):
        super().__init__()
        self.refiner = nn.Sequential(*(Block(dim * 2, TOP_K) for _ in range(8)))
        self.output = nn.Conv2d(dim, 3, kernel_size=3, padding=1, bias=False)
        self.up = Upsample(dim * 2)

    def forward(self, texture: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        return self.output(self.up(self.refiner(torch.cat([texture, shape], dim=1))))


class EulerMormerNet(nn.Module):
    """The whole network (original: ``MagNet``). Frames in and out are RGB in [0, 1]; ``alpha``
    a float or (B,) tensor, the total factor: PEM scales by alpha - 1, so alpha 1 is exactly
    M_B (PEM(x, 1) = GELU(0) = 0) and the output the autoencoded frame B."""

    multiple = MULTIPLE

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.manipulator = Manipulator()
        self.decoder = Decoder()

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> [-1, 1], reflect-padded (bottom, right) to even sides."""
        h, w = x.shape[-2:]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        x = x * 2 - 1
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > 1 else "replicate")
        return x

    @staticmethod
    def unpad(y: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """[-1, 1] -> [0, 1] in float32, cropped to ``size`` (unclipped)."""
        return (y[..., : size[0], : size[1]].float() + 1) / 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) in [0, 1] -> texture, shape (B, 48, H'/2, W'/2) of the padded frame."""
        return self.encoder(self.pad(x))

    def decode(self, texture: torch.Tensor, shape: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.unpad(self.decoder(texture, shape), size)

    @staticmethod
    def factor(alpha, batch: int, device) -> torch.Tensor:
        """A float or (B,) -> (B, 1, 1, 1) float32, the shape the original's training passes."""
        return torch.as_tensor(alpha, dtype=torch.float32, device=device).reshape(-1, 1, 1, 1).expand(batch, 1, 1, 1)

    def manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha) -> torch.Tensor:
        return self.manipulator(shape_a, shape_b, self.factor(alpha, shape_b.shape[0], shape_b.device))

    def delta(self, difference: torch.Tensor, alpha) -> torch.Tensor:
        """The increment for a shape difference or a temporally filtered shape (an extension:
        the original has no temporal mode)."""
        return self.manipulator.delta(difference, self.factor(alpha, difference.shape[0], difference.device))

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, alpha, others: torch.Tensor | None = None):
        """Magnify B's motion from A by ``alpha``. With ``others`` (B, K, 3, H, W), frames only
        encoded (for the representation losses), also return every texture and shape: a dict of
        output, textures and shapes (B, 2 + K, 48, h, w), in a, b, others order."""
        b, size = frame_a.shape[0], tuple(frame_a.shape[-2:])
        frames = [frame_a, frame_b] if others is None else [frame_a, frame_b, *others.unbind(1)]
        with full_precision(frame_a.device):  # the difference is scaled by alpha - 1: fp32
            textures, shapes = self.encode(torch.cat(frames).float())
            manipulated = self.manipulate(shapes[:b], shapes[b : 2 * b], alpha)
        output = self.decode(textures[b : 2 * b], manipulated, size)
        if others is None:
            return output
        n = len(frames)
        return dict(output=output, textures=textures.unflatten(0, (n, b)).transpose(0, 1),
                    shapes=shapes.unflatten(0, (n, b)).transpose(0, 1))


def build_eulermormer() -> EulerMormerNet:
    """The released configuration (dim 48, 4 heads, FFN expansion 3, WithBias LayerNorm)."""
    return EulerMormerNet()


def eulermormer_state_dict(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The original saves a bare state dict (``magnet_epochNN_lossX.pth``, callbacks.py), with
    ``module.`` prefixes when trained on more than one GPU; both come back without them."""
    return unwrap_state_dict(checkpoint, "state_dict", "model")


def load_eulermormer_checkpoint(path: str | Path) -> EulerMormerNet:
    """The authors' weights file, read with ``weights_only=True`` and loaded strictly; eval mode,
    on the CPU."""
    net = EulerMormerNet()
    load_strict(net, eulermormer_state_dict(read_checkpoint(path)), path)
    return net.eval()


__all__ = ["EulerMormerNet", "build_eulermormer", "eulermormer_state_dict", "load_eulermormer_checkpoint"]
