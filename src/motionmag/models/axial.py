"""Axial-MM (Byung-Ki et al., ECCV 2024, "Learning-based Axial Video Motion Magnification"):
Oh et al.'s encoder / manipulator / decoder with the shape split into two directional branches
that are magnified separately along an angle theta and across it (docs/newer_methods.md#axial-mm).

    net = AxialMagNet()                                      # 982,595 parameters, the released config
    out = net(frame_a, frame_b, alpha=10.0)                  # both axes x10, theta 0 (the generic case)
    out = net(frame_a, frame_b, alpha=20.0, alpha_across=0.0, theta=math.pi / 4)
    net = load_axial_checkpoint("axial_mm.tar")             # the authors' file, loaded strictly

Module and attribute names are the original's (postech-ami/Axial-mm module.py, class ``magnet``)
so that its checkpoints load with ``strict=True`` once DataParallel's ``module.`` is removed, and
modules are built in the original's order, so ``torch.manual_seed(0)`` gives the original's
initial weights (PyTorch's default init). Every conv has a bias and reflect padding.

Frames are RGB in [0, 1] here (the network works in [-1, 1] inside, x / 127.5 - 1 on uint8) and
of any size: they are reflect-padded to a multiple of 4 and the output is cropped back. The
original crops the frames to a multiple of 4 instead (train.py ``inference``), and its network
itself runs only when H, W = 0 or 3 (mod 4).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from motionmag.checkpoint import read_checkpoint
from motionmag.flow.weights import load_strict, unwrap_state_dict
from motionmag.models.oh2018 import full_precision

MULTIPLE = 4  # texture at 1/4 resolution, shape at 1/2
WIDTH = 32  # channels of the texture and of each shape branch


def _conv(in_channels: int, out_channels: int, kernel, stride: int = 1) -> nn.Conv2d:
    """A biased conv with reflect padding of kernel // 2 per side (symmetric, unlike Oh's TF 'SAME');
    ``kernel`` an int or (kh, kw): the axial convs are (3, 1) and (7, 1), along H only."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return nn.Conv2d(in_channels, out_channels, (kh, kw), stride=stride, padding=(kh // 2, kw // 2), padding_mode="reflect")


def transpose_hw(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, W, H): how one set of (k, 1) convs filters along the other axis."""
    return x.transpose(-1, -2)


class ResBlock(nn.Module):
    """x + conv2(relu(conv1(x))) at constant width; ``kernel`` 3 or (3, 1). Original: ``res_blk``."""

    def __init__(self, channels: int, kernel=3):
        super().__init__()
        self.conv1 = _conv(channels, channels, kernel)
        self.conv2 = _conv(channels, channels, kernel)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.activation(self.conv1(x)))


def _res_blocks(n: int, channels: int, kernel=3) -> nn.Sequential:
    """Original: ``multi_res_blk``."""
    return nn.Sequential(*(ResBlock(channels, kernel) for _ in range(n)))


class Trunk(nn.Module):
    """(B, 3, H, W) -> (B, 32, H/2, W/2): 7x7 conv 3->16 + ReLU, 3x3 stride-2 conv 16->32 + ReLU
    (symmetric reflect pad 1), 3 residual blocks. Original: ``res_encoder``."""

    def __init__(self, width: int = WIDTH, blocks: int = 3):
        super().__init__()
        self.conv1 = _conv(3, width // 2, 7)
        self.conv2 = _conv(width // 2, width, 3, stride=2)
        self.residual = _res_blocks(blocks, width)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.activation(self.conv1(x))
        return self.residual(self.activation(self.conv2(x)))


class Encoder(nn.Module):
    """(B, 3, H, W) in [-1, 1] -> texture (B, 32, H/4, W/4), shape_x and shape_y (B, 32, H/2, W/2).

    The shape branch is one set of (3, 1) convs (conv_sha + 3 residual blocks), so it filters along
    H only; shape_x applies it to the trunk map, shape_y to the H<->W-transposed map (transposed
    back), i.e. shape_y filters along W. The names are the original's; which image axis alpha_x
    drives in the trained network is for a measurement with the released weights to say.
    Original: ``encoder``."""

    def __init__(self, width: int = WIDTH):
        super().__init__()
        self.res_encoder = Trunk(width, 3)
        self.conv_tex = _conv(width, width, 3, stride=2)  # texture: 1/4 resolution
        self.conv_sha = _conv(width, width, (3, 1))
        self.texture_resblk = _res_blocks(2, width)
        self.shape_resblk = _res_blocks(3, width, (3, 1))
        self.activation = nn.ReLU()

    def shape(self, trunk: torch.Tensor) -> torch.Tensor:
        """The (3, 1) shape branch on a trunk map (along its H)."""
        return self.shape_resblk(self.activation(self.conv_sha(trunk)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        trunk = self.res_encoder(x)
        texture = self.texture_resblk(self.activation(self.conv_tex(trunk)))
        return texture, self.shape(trunk), transpose_hw(self.shape(transpose_hw(trunk)))


class Manipulator(nn.Module):
    """Axial magnification of the shape difference (original: ``res_manipulator``).

    Rotate (x, y) by theta: M_th = M_x cos - M_y sin, M_perp = M_x sin + M_y cos; take B - A;
    multiply by the factors (mag[:, 0] along theta, mag[:, 1] across; the total factor, not
    alpha - 1); run both through the same layers, the across part transposed so that its (k, 1)
    convs act along the other axis: 7x1 conv + ReLU, 3x1 conv, one (3, 1) residual block;
    rotate back and add to B's shapes. The biases make zero motion add an alpha-independent
    constant (there is no exact identity)."""

    def __init__(self, width: int = WIDTH):
        super().__init__()
        self.conv1 = _conv(width, width, (7, 1))
        self.conv2 = _conv(width, width, (3, 1))
        self.residual = _res_blocks(1, width, (3, 1))
        self.activation = nn.ReLU()

    def filter(self, d: torch.Tensor) -> torch.Tensor:
        """The shared layers, along H: (B, 32, h, w) -> (B, 32, h, w)."""
        return self.residual(self.conv2(self.activation(self.conv1(d))))

    def magnify(self, d_theta: torch.Tensor, d_ortho: torch.Tensor, mag: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The rotated differences -> their magnified increments (still rotated)."""
        d_theta = self.filter(d_theta * mag[:, :1])
        d_ortho = transpose_hw(self.filter(transpose_hw(d_ortho * mag[:, 1:])))
        return d_theta, d_ortho

    @staticmethod
    def rotate(x: torch.Tensor, y: torch.Tensor, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cos, sin = torch.cos(theta), torch.sin(theta)
        return x * cos - y * sin, x * sin + y * cos

    @staticmethod
    def unrotate(d_theta: torch.Tensor, d_ortho: torch.Tensor, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cos, sin = torch.cos(theta), torch.sin(theta)
        return d_theta * cos + d_ortho * sin, -d_theta * sin + d_ortho * cos

    def delta(self, diff_x: torch.Tensor, diff_y: torch.Tensor, mag: torch.Tensor, theta: torch.Tensor):
        """The increment for a shape difference (or a temporally filtered shape): what the
        original's temporal mode gets as ``res_manipulator(0, 0, y_x, y_y) - y``."""
        return self.unrotate(*self.magnify(*self.rotate(diff_x, diff_y, theta), mag), theta)

    def forward(self, prev_x, prev_y, next_x, next_y, mag: torch.Tensor, theta: torch.Tensor):
        """Shapes (B, 32, h, w); mag (B, 2, h, w) or (B, 2, 1, 1); theta (B, 1, 1, 1) in radians.
        The rotations are applied to A and B before the difference, as in the original."""
        prev_theta, prev_ortho = self.rotate(prev_x, prev_y, theta)
        next_theta, next_ortho = self.rotate(next_x, next_y, theta)
        d_theta, d_ortho = self.magnify(next_theta - prev_theta, next_ortho - prev_ortho, mag)
        diff_x, diff_y = self.unrotate(d_theta, d_ortho, theta)
        return next_x + diff_x, next_y + diff_y


class Upsampler(nn.Module):
    """(B, 64, H/2, W/2) -> (B, 3, H, W): 10 residual blocks, nearest x2, 3x3 64->64 + ReLU,
    3x3 64->32 + ReLU, 7x7 32->3 (no output activation). Original: ``res_decoder``."""

    def __init__(self, channels: int = 2 * WIDTH, blocks: int = 10):
        super().__init__()
        self.residual = _res_blocks(blocks, channels)
        self.up_sample = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv_up_sample = _conv(channels, channels, 3)
        self.conv1 = _conv(channels, channels // 2, 3)
        self.conv2 = _conv(channels // 2, 3, 7)
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.up_sample(self.residual(x))
        x = self.activation(self.conv_up_sample(x))
        return self.conv2(self.activation(self.conv1(x)))


class Decoder(nn.Module):
    """texture (B, 32, H/4, W/4), shape_x, shape_y (B, 32, H/2, W/2) -> (B, 3, H, W) in [-1, 1]
    (unclipped). Shapes: concat 64 -> 3x3 conv 64->32 + ReLU -> 3x3 32->32; texture: nearest x2
    -> 3x3 conv + ReLU; concat (texture, shape) -> :class:`Upsampler`. Original: ``decoder``."""

    def __init__(self, width: int = WIDTH):
        super().__init__()
        self.conv1 = _conv(2 * width, width, 3)
        self.conv2 = _conv(width, width, 3)
        self.activation = nn.ReLU()
        self.up_sample = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv_tex_aft_upsample = _conv(width, width, 3)
        self.res_decoder = Upsampler(2 * width, 10)

    def forward(self, texture: torch.Tensor, shape_x: torch.Tensor, shape_y: torch.Tensor) -> torch.Tensor:
        shape = self.conv2(self.activation(self.conv1(torch.cat([shape_x, shape_y], dim=1))))
        texture = self.activation(self.conv_tex_aft_upsample(self.up_sample(texture)))
        return self.res_decoder(torch.cat([texture, shape], dim=1))


def _batch_tensor(value, batch: int, device: torch.device) -> torch.Tensor:
    """A float, a 0-d or a (B,) tensor -> (B, 1, 1, 1) float32."""
    value = torch.as_tensor(value, dtype=torch.float32, device=device)
    return value.reshape(-1, 1, 1, 1).expand(batch, 1, 1, 1)


class AxialMagNet(nn.Module):
    """The whole network (original: ``magnet``). Frames in and out are RGB in [0, 1].

    Factors: ``alpha`` multiplies the motion along ``theta`` and ``alpha_across`` (default: the
    same) the motion across it; each a float or a (B,) tensor; or ``alpha`` is a (B, 2, H, W) map
    at the frames' resolution (training's per-pixel map), bilinearly halved to the shape maps as
    the original's data loader does. ``theta`` in radians (the original's command line takes
    degrees), a float or (B,). theta = 0 with equal factors is the generic (non-axial) case, the
    one the authors' generic evaluation runs."""

    multiple = MULTIPLE

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.res_manipulator = Manipulator()

    # -- pieces: encode each frame once, filter the 64-channel shape over time, decode ------------
    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] -> [-1, 1], reflect-padded (bottom, right) to a multiple of 4."""
        h, w = x.shape[-2:]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        x = x * 2 - 1
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        return x

    @staticmethod
    def unpad(y: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """[-1, 1] -> [0, 1] in float32, cropped to ``size`` (unclipped)."""
        return (y[..., : size[0], : size[1]].float() + 1) / 2

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) in [0, 1] -> texture (B, 32, H'/4, W'/4) and the shape representation
        (B, 64, H'/2, W'/2) = concat(shape_x, shape_y), what temporal filters act on (H', W' the
        padded size)."""
        texture, shape_x, shape_y = self.encoder(self.pad(x))
        return texture, torch.cat([shape_x, shape_y], dim=1)

    def decode(self, texture: torch.Tensor, shape: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.unpad(self.decoder(texture, *shape.chunk(2, dim=1)), size)

    def factors(self, alpha, alpha_across=None, theta=0.0, batch: int = 1, device=None,
                size: tuple[int, int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """mag (B, 2, 1, 1) (or (B, 2, H'/2, W'/2) from a map) and theta (B, 1, 1, 1)."""
        device = device or next(self.parameters()).device
        alpha = torch.as_tensor(alpha, dtype=torch.float32, device=device)
        if alpha.dim() == 4:  # a per-pixel (B, 2, H, W) map at frame resolution
            if alpha_across is not None:
                raise ValueError("alpha_across goes with a scalar alpha, not with a map")
            if size is not None and tuple(alpha.shape[-2:]) != tuple(size):
                raise ValueError(f"the alpha map is {tuple(alpha.shape[-2:])}, the frames {tuple(size)}")
            h, w = alpha.shape[-2:]
            alpha = F.pad(alpha, (0, -w % MULTIPLE, 0, -h % MULTIPLE), mode="replicate")
            mag = F.interpolate(alpha, scale_factor=0.5, mode="bilinear", align_corners=False)
        else:
            along = _batch_tensor(alpha, batch, device)
            across = along if alpha_across is None else _batch_tensor(alpha_across, batch, device)
            mag = torch.cat([along, across], dim=1)
        return mag, _batch_tensor(theta, batch, device)

    def manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, mag: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """64-channel shapes of A and B -> B's magnified shape (mag, theta from :meth:`factors`)."""
        out = self.res_manipulator(*shape_a.chunk(2, dim=1), *shape_b.chunk(2, dim=1), mag, theta)
        return torch.cat(out, dim=1)

    def delta(self, difference: torch.Tensor, mag: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """The 64-channel increment for a 64-channel shape difference or filtered band: the
        temporal mode decodes ``shape_t + delta(T(shape)(t))``, as the original's IIR modes."""
        return torch.cat(self.res_manipulator.delta(*difference.chunk(2, dim=1), mag, theta), dim=1)

    def forward(self, frame_a: torch.Tensor, frame_b: torch.Tensor, alpha, alpha_across=None, theta=0.0,
                others: torch.Tensor | None = None):
        """Magnify B's motion from A. With ``others`` (B, K, 3, H, W), frames only encoded (for
        the representation losses), also return every texture and 64-channel shape: a dict of
        output (B, 3, H, W), textures and shapes (B, 2 + K, C, h, w), in a, b, others order."""
        b, size = frame_a.shape[0], tuple(frame_a.shape[-2:])
        frames = [frame_a, frame_b] if others is None else [frame_a, frame_b, *others.unbind(1)]
        with full_precision(frame_a.device):  # (alpha up to ~250) x sub-pixel differences: fp32
            textures, shapes = self.encode(torch.cat(frames).float())  # one batched encoder pass
            mag, theta = self.factors(alpha, alpha_across, theta, b, frame_a.device, size)
            manipulated = self.manipulate(shapes[:b], shapes[b : 2 * b], mag, theta)
        output = self.decode(textures[b : 2 * b], manipulated, size)
        if others is None:
            return output
        n = len(frames)
        return dict(output=output, textures=textures.unflatten(0, (n, b)).transpose(0, 1),
                    shapes=shapes.unflatten(0, (n, b)).transpose(0, 1))


def build_axial() -> AxialMagNet:
    """The released configuration (the original has no other)."""
    return AxialMagNet()


def axial_state_dict(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The network's tensors from the original's checkpoint dict (``{epoch, model_state_dict,
    optimizer_state_dict, train_loss, val_loss}``, train.py), DataParallel's ``module.`` removed;
    a bare state dict passes through."""
    return unwrap_state_dict(checkpoint, "model_state_dict", "state_dict")


def load_axial_checkpoint(path: str | Path) -> AxialMagNet:
    """The authors' ``axial_mm.tar`` (a torch.save dict, not a tar archive) or a bare state dict,
    read with ``weights_only=True`` and loaded strictly; eval mode, on the CPU. The optimizer state
    in the file is ignored (the original's loader needs it)."""
    net = AxialMagNet()
    load_strict(net, axial_state_dict(read_checkpoint(path)), path)
    return net.eval()


__all__ = ["AxialMagNet", "axial_state_dict", "build_axial", "load_axial_checkpoint"]
