"""STB-VMM (Lado-Roigé and Pérez, Knowledge-Based Systems 2023, "STB-VMM: Swin Transformer based
video motion magnification"): a SwinIR feature extractor at 1/8 resolution, Oh-style manipulator,
a second SwinIR stack that mixes the magnified features, and a transposed-conv decoder
(docs/newer_methods.md#stb-vmm).

    net = STBVMMNet()                                       # 31,335,411 parameters, the released config
    out = net(frame_a, frame_b, alpha=20.0)                 # (B, 3, H, W) RGB in [0, 1], any H, W
    net = load_stbvmm_checkpoint("ckpt_e49.pth.tar")        # the authors' file, loaded strictly

Module and attribute names are the original's (RLado/STB-VMM models/model.py, class ``VMMpp``),
buffers included: its checkpoints hold 1090 entries, the 982 parameters and 108 persistent buffers
(72 ``relative_position_index`` and 36 shifted-window ``attn_mask`` for the 48 x 48 feature grid of
img_size 384), and load with ``strict=True``. Other frame sizes compute the mask per call, as in
the original. Modules are built and initialised in the original's order (trunc_normal(0.02) Linear
weights and bias tables, zero Linear biases, PyTorch's default conv init). No timm: the SwinIR
parts (window attention, drop path) are written out.

Frames are RGB in [0, 1] (the network works in [-1, 1] inside, minus the DIV2K mean, which is
never added back). The 8 x 8 windows on the 1/8-resolution features need sides that are multiples
of 64 (the original's own reflect pad to a multiple of 8 does not suffice); here frames are padded
to a multiple of 64 (``padding="reflect"``, bottom and right, or ``"black-centre"``, constant black
centred, as the original's magnify_video.sh) and the output is cropped back (the original never
crops it).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from motionmag.checkpoint import read_checkpoint
from motionmag.flow.weights import load_strict, unwrap_state_dict
from motionmag.models.oh2018 import full_precision

DIV2K_MEAN = (0.4488, 0.4371, 0.4040)  # subtracted from the [-1, 1] input, as the original does
PADDINGS = ("reflect", "black-centre")


def trunc_normal_(tensor: torch.Tensor, std: float = 0.02, a: float = -2.0, b: float = 2.0) -> torch.Tensor:
    """timm's (and the original's) truncated normal by inverse CDF: uniform draws mapped through
    erfinv. Recent PyTorch (2.14 here) draws ``nn.init.trunc_normal_`` differently (rejection
    sampling), so it would not reproduce the original's initial weights from the same seed."""
    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    with torch.no_grad():
        tensor.uniform_(2 * cdf(a / std) - 1, 2 * cdf(b / std) - 1).erfinv_()
        return tensor.mul_(std * math.sqrt(2.0)).clamp_(min=a, max=b)


def drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Stochastic depth per sample (timm's), drawn from the global RNG as in the original."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p)
    return x * keep.div_(1 - p)


class DropPath(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        self.drop_prob = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.drop_prob, self.training)


class Mlp(nn.Module):
    """(N, L, C) -> fc1 C->2C, GELU, fc2 2C->C (dropout 0)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * nW, window, window, C)."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window, window, c)


def window_reverse(windows: torch.Tensor, window: int, h: int, w: int) -> torch.Tensor:
    """(B * nW, window, window, C) -> (B, H, W, C)."""
    b = windows.shape[0] // ((h // window) * (w // window))
    x = windows.view(b, h // window, w // window, window, window, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, h, w, -1)


def relative_position_index(window: int) -> torch.Tensor:
    """(window^2, window^2) int64: each token pair's index into the (2 window - 1)^2 bias table."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous() + (window - 1)
    return relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1]


def shifted_window_mask(size: tuple[int, int], window: int, shift: int) -> torch.Tensor:
    """(nW, window^2, window^2): 0 within a region of the cyclically shifted map, -100 across."""
    h, w = size
    regions = torch.zeros((1, h, w, 1))
    slices = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for i, hs in enumerate(slices):
        for j, ws in enumerate(slices):
            regions[:, hs, ws, :] = i * 3 + j
    windows = window_partition(regions, window).view(-1, window * window)
    mask = windows.unsqueeze(1) - windows.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside each window, with a learned relative-position bias
    (table (2w - 1)^2 x heads); scale head_dim^-1/2 (192 / 6 = 32 channels per head)."""

    def __init__(self, dim: int, window: int, num_heads: int):
        super().__init__()
        self.dim, self.window_size, self.num_heads = dim, (window, window), num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, num_heads))
        self.register_buffer("relative_position_index", relative_position_index(window))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)
        trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B * nW, N, C), N = window^2; mask (nW, N, N) or None."""
        b_, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b_, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(b_ // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.num_heads, n, n)
        attn = self.attn_drop(self.softmax(attn))
        x = (attn @ v).transpose(1, 2).reshape(b_, n, c)
        return self.proj_drop(self.proj(x))


class SwinTransformerBlock(nn.Module):
    """Pre-norm (S)W-MSA + MLP on tokens (B, H*W, C), each branch with drop path. Odd blocks shift
    the windows by window / 2; their mask for the 384 grid is a buffer (the checkpoints hold it)."""

    def __init__(self, dim: int, input_resolution: tuple[int, int], num_heads: int, window: int, shift: int,
                 mlp_ratio: float, drop_path: float):
        super().__init__()
        self.input_resolution = input_resolution
        self.window_size, self.shift_size = window, shift
        if min(input_resolution) <= window:  # the original's rule, decided at construction
            self.shift_size, self.window_size = 0, min(input_resolution)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, self.window_size, num_heads)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        mask = shifted_window_mask(input_resolution, self.window_size, self.shift_size) if self.shift_size > 0 else None
        self.register_buffer("attn_mask", mask)  # None on unshifted blocks: not in the state dict

    def mask(self, size: tuple[int, int], device: torch.device) -> torch.Tensor | None:
        if self.shift_size == 0:
            return None
        if tuple(size) == tuple(self.input_resolution):
            return self.attn_mask
        return shifted_window_mask(size, self.window_size, self.shift_size).to(device)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        h, w = size
        b, _, c = x.shape
        shortcut = x
        x = self.norm1(x).view(b, h, w, c)
        if self.shift_size:
            x = torch.roll(x, shifts=(-self.shift_size, -self.shift_size), dims=(1, 2))
        windows = window_partition(x, self.window_size).view(-1, self.window_size**2, c)
        windows = self.attn(windows, self.mask(size, x.device)).view(-1, self.window_size, self.window_size, c)
        x = window_reverse(windows, self.window_size, h, w)
        if self.shift_size:
            x = torch.roll(x, shifts=(self.shift_size, self.shift_size), dims=(1, 2))
        x = shortcut + self.drop_path(x.reshape(b, h * w, c))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class BasicLayer(nn.Module):
    """``depth`` Swin blocks, shifts alternating 0, window / 2."""

    def __init__(self, dim: int, input_resolution: tuple[int, int], depth: int, num_heads: int, window: int,
                 mlp_ratio: float, drop_path: list[float]):
        super().__init__()
        shifts = [0 if i % 2 == 0 else window // 2 for i in range(depth)]
        self.blocks = nn.ModuleList(SwinTransformerBlock(dim, input_resolution, num_heads, window, shifts[i], mlp_ratio, drop_path[i])
                                    for i in range(depth))

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, size)
        return x


def to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, H*W, C). The original's PatchEmbed (patch size 1) without its norm."""
    return x.flatten(2).transpose(1, 2)


def to_map(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, H*W, C) -> (B, C, H, W). The original's PatchUnEmbed."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *size)


class RSTB(nn.Module):
    """Residual Swin Transformer Block: tokens -> 6 Swin blocks -> map -> 3x3 conv -> tokens, + input."""

    def __init__(self, dim: int, input_resolution: tuple[int, int], depth: int, num_heads: int, window: int,
                 mlp_ratio: float, drop_path: list[float]):
        super().__init__()
        self.residual_group = BasicLayer(dim, input_resolution, depth, num_heads, window, mlp_ratio, drop_path)
        self.conv = nn.Conv2d(dim, dim, 3, 1, 1)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return to_tokens(self.conv(to_map(self.residual_group(x, size), size))) + x


class PatchEmbed(nn.Module):
    """(B, C, H, W) -> tokens (B, H*W, C), LayerNorm'd (patch size 1: no projection)."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(to_tokens(x))


def _conv(channels: int, kernel: int) -> nn.Conv2d:
    """Bias-free, reflect-padded (the original's ReflectionPad2d + conv: the same weights)."""
    return nn.Conv2d(channels, channels, kernel, padding=kernel // 2, padding_mode="reflect", bias=False)


class ConvBlock(nn.Module):
    """7x7 conv + ReLU. Original: ``ConvBlock``."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = _conv(channels, 7)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv1(x))


class ConvBlockAfter(nn.Module):
    """3x3 conv. Original: ``ConvBlockAfter``."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = _conv(channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1(x)


class ResBlock(nn.Module):
    """x + conv2(relu(conv1 x)), 3x3, bias-free, reflect-padded."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = _conv(channels, 3)
        self.conv2 = _conv(channels, 3)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.relu(self.conv1(x))) + x


class Manipulator(nn.Module):
    """R_B + h((alpha - 1) g(R_B - R_A)), g = 7x7 conv + ReLU, h = 3x3 conv + residual block(s):
    zero motion (or alpha 1) is the exact identity."""

    def __init__(self, channels: int, num_resblk: int = 1):
        super().__init__()
        self.convblks = nn.Sequential(ConvBlock(channels))
        self.convblks_after = nn.Sequential(ConvBlockAfter(channels))
        self.resblks = nn.Sequential(*(ResBlock(channels) for _ in range(num_resblk)))

    def delta(self, difference: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """The increment for a feature difference (B, C, h, w); alpha (B, 1, 1, 1)."""
        return self.resblks(self.convblks_after((alpha - 1.0) * self.convblks(difference)))

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        return x_b + self.delta(x_b - x_a, alpha)


class STBVMMNet(nn.Module):
    """The whole network (original: ``VMMpp``). Frames in and out are RGB in [0, 1]; ``alpha`` a
    float or (B,) tensor, the total factor (the manipulator scales by alpha - 1).

    Defaults are the configuration the original's train.py and run.py build: img_size 384 (only
    the stored masks depend on it), embed 192, 6 stages of 6 blocks with 6 heads, window 8, MLP
    ratio 2, qkv bias, drop path 0 -> 0.1 over each stack's 36 blocks."""

    def __init__(self, img_size: int = 384, embed_dim: int = 192, depths=(6, 6, 6, 6, 6, 6), num_heads=(6, 6, 6, 6, 6, 6),
                 window_size: int = 8, mlp_ratio: float = 2.0, drop_path_rate: float = 0.1, manipulator_num_resblk: int = 1,
                 padding: str = "reflect"):
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding is one of {', '.join(PADDINGS)}, not {padding!r}")
        self.padding = padding
        self.window_size = window_size
        self.multiple = 8 * window_size  # 1/8-resolution features tiled by whole windows
        grid = (img_size // 8, img_size // 8)
        self.conv_first = nn.Conv2d(3, embed_dim, 8, 8, 0)  # (B, 3, H, W) -> (B, 192, H/8, W/8)
        self.patch_embed_dfe = PatchEmbed(embed_dim)
        self.layers_dfe = self._stack(embed_dim, grid, depths, num_heads, window_size, mlp_ratio, drop_path_rate)
        self.norm_dfe = nn.LayerNorm(embed_dim)
        self.conv_after_body_dfe = nn.Conv2d(embed_dim, embed_dim, 3, 1, 1)
        self.manipulator = Manipulator(embed_dim, manipulator_num_resblk)
        self.patch_embed_mmsa = PatchEmbed(embed_dim)
        self.layers_mmsa = self._stack(embed_dim, grid, depths, num_heads, window_size, mlp_ratio, drop_path_rate)
        self.norm_mmsa = nn.LayerNorm(embed_dim)
        self.conv_after_body_mmsa = nn.Conv2d(embed_dim, embed_dim, 3, 1, 1)
        self.upsample_conv = nn.ConvTranspose2d(embed_dim, embed_dim, 8, 8, 0)  # back to full resolution
        self.conv_last = nn.Conv2d(embed_dim, 3, 3, 1, 1)
        self.apply(self._init_weights)

    @staticmethod
    def _stack(dim, grid, depths, num_heads, window, mlp_ratio, drop_path_rate) -> nn.ModuleList:
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()  # 0 -> 0.1 over the stack's 36 blocks
        starts = [sum(depths[:i]) for i in range(len(depths) + 1)]
        return nn.ModuleList(RSTB(dim, grid, depth, heads, window, mlp_ratio, rates[starts[i] : starts[i + 1]])
                             for i, (depth, heads) in enumerate(zip(depths, num_heads)))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.constant_(module.bias, 0)
        elif isinstance(module, nn.LayerNorm):
            nn.init.constant_(module.bias, 0)
            nn.init.constant_(module.weight, 1.0)

    # -- pieces ------------------------------------------------------------------------------
    def _padding(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) to the next multiple of 64."""
        ph, pw = -size[0] % self.multiple, -size[1] % self.multiple
        if self.padding == "black-centre":
            return pw // 2, pw - pw // 2, ph // 2, ph - ph // 2
        return 0, pw, 0, ph

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> [-1, 1] padded to a multiple of 64, minus the DIV2K mean."""
        h, w = x.shape[-2:]
        pads = self._padding((h, w))
        x = x * 2 - 1
        if any(pads):
            if self.padding == "black-centre":
                x = F.pad(x, pads, value=-1.0)
            else:  # reflect while the frame is larger than the pad; replicate beyond (tiny frames)
                x = F.pad(x, pads, mode="reflect" if h > pads[3] and w > pads[1] else "replicate")
        return x - torch.tensor(DIV2K_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)

    def unpad(self, y: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """[-1, 1] -> [0, 1] in float32, cropped to ``size`` (unclipped; the mean is not added back)."""
        left, _, top, _ = self._padding(size)
        return (y[..., top : top + size[0], left : left + size[1]].float() + 1) / 2

    def _features(self, x: torch.Tensor, embed: PatchEmbed, layers: nn.ModuleList, norm: nn.LayerNorm, conv: nn.Conv2d):
        """A SwinIR body: tokens, RSTBs, LayerNorm, map, 3x3 conv, + the input map."""
        size = tuple(x.shape[-2:])
        tokens = embed(x)
        for layer in layers:
            tokens = layer(tokens, size)
        return conv(to_map(norm(tokens), size)) + x

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> R (B, 192, H'/8, W'/8), H', W' the padded size: conv_first
        and the feature extractor (dfe), what the manipulator and the R_B/R_C loss use."""
        first = self.conv_first(self.pad(x))
        return self._features(first, self.patch_embed_dfe, self.layers_dfe, self.norm_dfe, self.conv_after_body_dfe)

    def decode(self, features: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Magnified features -> (B, 3, H, W): the mixing stack (mmsa), 8x transposed conv, 3x3 conv."""
        mixed = self._features(features, self.patch_embed_mmsa, self.layers_mmsa, self.norm_mmsa, self.conv_after_body_mmsa)
        return self.unpad(self.conv_last(self.upsample_conv(mixed)), size)

    @staticmethod
    def factor(alpha, batch: int, device) -> torch.Tensor:
        return torch.as_tensor(alpha, dtype=torch.float32, device=device).reshape(-1, 1, 1, 1).expand(batch, 1, 1, 1)

    def manipulate(self, features_a: torch.Tensor, features_b: torch.Tensor, alpha) -> torch.Tensor:
        return self.manipulator(features_a, features_b, self.factor(alpha, features_b.shape[0], features_b.device))

    def delta(self, difference: torch.Tensor, alpha) -> torch.Tensor:
        """The increment for a feature difference or a temporally filtered feature map (an
        extension: the original has no temporal mode)."""
        return self.manipulator.delta(difference, self.factor(alpha, difference.shape[0], difference.device))

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, alpha, others: torch.Tensor | None = None):
        """Magnify B's motion from A by ``alpha``. With ``others`` (B, K, 3, H, W), frames only
        encoded (frame C, for the R_B/R_C loss), also return every frame's features: a dict of
        output and features (B, 2 + K, 192, h, w), in a, b, others order.

        The encoder and manipulator run in float32 under autocast (alpha - 1 scales the feature
        difference); the mixing stack and decoder may run in bf16."""
        b, size = frame_a.shape[0], tuple(frame_a.shape[-2:])
        frames = [frame_a, frame_b] if others is None else [frame_a, frame_b, *others.unbind(1)]
        with full_precision(frame_a.device):
            features = self.encode(torch.cat(frames).float())
            manipulated = self.manipulate(features[:b], features[b : 2 * b], alpha)
        output = self.decode(manipulated, size)
        if others is None:
            return output
        return dict(output=output, features=features.unflatten(0, (len(frames), b)).transpose(0, 1))


def build_stbvmm(**overrides) -> STBVMMNet:
    """The released configuration, or another via STBVMMNet's arguments."""
    return STBVMMNet(**overrides)


def stbvmm_state_dict(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The original's ``ckpt_eNN.pth.tar`` is ``{epoch, state_dict, losses_recon, losses_reg1}``
    (train.py), saved from the CPU without ``module.``; a prefix is removed anyway."""
    return unwrap_state_dict(checkpoint, "state_dict", "model")


def load_stbvmm_checkpoint(path: str | Path, padding: str = "reflect") -> STBVMMNet:
    """The authors' checkpoint (or a bare state dict), read with ``weights_only=True`` and loaded
    strictly, buffers included; eval mode, on the CPU."""
    net = STBVMMNet(padding=padding)
    load_strict(net, stbvmm_state_dict(read_checkpoint(path)), path)  # every parameter and buffer, or an error
    return net.eval()


__all__ = ["DIV2K_MEAN", "STBVMMNet", "build_stbvmm", "load_stbvmm_checkpoint", "stbvmm_state_dict"]
