"""The learned magnifiers' losses.

FlowMag's self-supervised loss, through any differentiable flow model
(docs/flowmag.md#the-original-training):

    L = weight_mag  * mean |F(I0, out) - alpha F(I0, It)|
      + weight_color * mean |warp(out, F(I0, out)) - warp(It, F(I0, It))|

F is frozen; gradients reach ``out`` through F and through the warp. The target flow F(I0, It)
carries no gradient (nothing upstream of it is trained), so it is computed without a graph.

Oh et al. 2018's supervised loss on synthetic samples (docs/oh2018.md#the-original-training):
see :class:`OhLoss`. Its successors' (docs/training.md#the-newer-methods): :class:`AxialLoss`,
:class:`EulerMormerLoss` (Charbonnier + edge), :class:`STBVMMLoss`. Image terms are measured on
the [-1, 1] scale the networks work in, as the originals measure them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from motionmag.flow.warp import backward_warp


class FlowMagLoss(nn.Module):
    def __init__(self, flow: nn.Module, weight_mag: float = 1.0, weight_color: float = 10.0):
        super().__init__()
        if not getattr(flow, "differentiable", False):
            raise ValueError(f"{type(flow).__name__} is not differentiable: FlowMag trains through the flow")
        self.flow, self.weight_mag, self.weight_color = flow, weight_mag, weight_color

    def forward(self, frame0: torch.Tensor, frame_t: torch.Tensor, output: torch.Tensor,
                alpha: torch.Tensor) -> dict[str, torch.Tensor]:
        """frame0, frame_t, output: (B, 3, H, W) in [0, 1]; alpha: (B,). Returns the loss and its terms."""
        with torch.no_grad():
            flow_src = self.flow(frame0, frame_t)  # (B, 2, H, W)
        flow_pred = self.flow(frame0, output)
        loss_mag = (flow_pred - alpha.view(-1, 1, 1, 1).to(flow_src) * flow_src).abs().mean()
        # both frames pulled back onto frame 0's grid by their own flows: same colours expected
        warped_out = backward_warp(output.float(), flow_pred, padding_mode="reflection")
        warped_src = backward_warp(frame_t.float(), flow_src, padding_mode="reflection")
        loss_color = (warped_out - warped_src).abs().mean()
        loss = self.weight_mag * loss_mag + self.weight_color * loss_color
        return {"loss": loss, "loss_mag": loss_mag, "loss_color": loss_color}


OH_LOSS_FORMS = ("official", "paper")


class OhLoss(nn.Module):
    """``official`` (the released TF code, the default):
        L1(out, amplified) + w (L1(V_C, V_A) + L1(M_C, M_B))                        w = 1
    ``paper`` (the paper's text, with its third term: texture(B) and the target share B's colours):
        L1(out, amplified) + w (L1(V_A, V_C) + L1(V_B, V_amplified) + L1(M_B, M_C))   w = 0.1

    V are textures, M shapes. Image terms are measured on the [-1, 1] scale the network works in,
    so the weights balance the terms as in the original.
    """

    def __init__(self, form: str = "official", weight: float | None = None):
        super().__init__()
        if form not in OH_LOSS_FORMS:
            raise ValueError(f"unknown loss form {form!r}; choose one of {', '.join(OH_LOSS_FORMS)}")
        self.form = form
        self.weight = (1.0 if form == "official" else 0.1) if weight is None else float(weight)

    @property
    def encodes_target(self) -> bool:
        """Whether the target must go through the encoder too (the paper's third term)."""
        return self.form == "paper"

    def forward(self, output: torch.Tensor, target: torch.Tensor, textures: torch.Tensor,
                shapes: torch.Tensor) -> dict[str, torch.Tensor]:
        """output, target (B, 3, H, W) in [0, 1]; textures, shapes (B, K, C, h, w) of frames
        A, B, C (and the target when ``encodes_target``), in that order."""
        loss_image = 2 * (output.float() - target.float()).abs().mean()
        loss_texture = (textures[:, 2] - textures[:, 0]).float().abs().mean()
        loss_shape = (shapes[:, 2] - shapes[:, 1]).float().abs().mean()
        loss_texture_amp = (textures[:, 1] - textures[:, 3]).float().abs().mean() if self.encodes_target else torch.zeros_like(loss_image)
        loss = loss_image + self.weight * (loss_texture + loss_shape + loss_texture_amp)
        return dict(loss=loss, loss_image=loss_image, loss_texture=loss_texture, loss_shape=loss_shape,
                    loss_texture_amp=loss_texture_amp)


def shot_noise(frames: torch.Tensor, strength: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Oh et al.'s Gaussian approximation of photon noise: std = strength * sqrt(I) on the 0-255
    scale (I the pixel value), i.e. x + strength * N(0, 1) * sqrt(255 x) / 255 for x in [0, 1].
    frames (B, ..., H, W); strength (B,) drawn per sample (the original drew it three times per run,
    once each for A, B and C, at graph construction)."""
    # drawn where the frames are (a CPU draw and copy would cost a GPU step dearly), from a
    # generator seeded by the step's: deterministic on a given device type
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    noise = torch.randn(frames.shape, generator=torch.Generator(frames.device).manual_seed(seed), device=frames.device)
    scale = strength.to(frames).view(-1, *([1] * (frames.dim() - 1)))
    return frames + scale * noise * (frames.clamp(min=0) * 255).sqrt() / 255


def _signed(image: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1] in float32: the scale the originals' losses see images on."""
    return image.float() * 2 - 1


def _l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x.float() - y.float()).abs().mean()


class AxialLoss(nn.Module):
    """Axial-MM's loss (postech-ami/Axial-mm train.py, ``_forward_backward_propagation``; the
    representations are module.py ``magnet.forward``'s):

        L1(out, amplified) + w_t L1(V_A, V_C) + w_s (L1(Mx_B, Mx_C) + L1(My_B, My_C)) / 2

    w_t = w_s = 1 (``tex_loss_w``, ``sha_loss_w``). V are textures, Mx and My the two directional
    shape branches (the halves of the 64-channel shape, x first); L1 is ``nn.L1Loss`` (a mean)."""

    def __init__(self, texture: float = 1.0, shape: float = 1.0):
        super().__init__()
        self.texture, self.shape = float(texture), float(shape)

    def forward(self, output: torch.Tensor, target: torch.Tensor, textures: torch.Tensor,
                shapes: torch.Tensor) -> dict[str, torch.Tensor]:
        """output, target (B, 3, H, W) in [0, 1]; textures (B, 3, 32, h, w) and shapes
        (B, 3, 64, h', w') of frames A, B, C."""
        loss_image = _l1(_signed(output), _signed(target))
        loss_texture = _l1(textures[:, 0], textures[:, 2])
        x_b, y_b = shapes[:, 1].chunk(2, dim=1)
        x_c, y_c = shapes[:, 2].chunk(2, dim=1)
        loss_shape_x, loss_shape_y = _l1(x_b, x_c), _l1(y_b, y_c)
        loss = loss_image + self.texture * loss_texture + self.shape * (loss_shape_x + loss_shape_y) * 0.5
        return dict(loss=loss, loss_image=loss_image, loss_texture=loss_texture, loss_shape_x=loss_shape_x,
                    loss_shape_y=loss_shape_y)


CHARBONNIER_EPS = 1e-3


def charbonnier(x: torch.Tensor, y: torch.Tensor, eps: float = CHARBONNIER_EPS) -> torch.Tensor:
    """mean sqrt((x - y)^2 + eps^2): EulerMormer's ``CharbonnierLoss`` (utils/utils.py, eps 1e-3)."""
    diff = x.float() - y.float()
    return torch.sqrt(diff * diff + eps * eps).mean()


GAUSS_TAPS = (0.05, 0.25, 0.4, 0.25, 0.05)


def _gauss(image: torch.Tensor) -> torch.Tensor:
    """Per channel, the 5x5 outer product of GAUSS_TAPS with a replicate pad of 2 (``conv_gauss``)."""
    taps = torch.tensor(GAUSS_TAPS, dtype=image.dtype, device=image.device)
    channels = image.shape[1]
    kernel = torch.outer(taps, taps).expand(channels, 1, 5, 5)
    return F.conv2d(F.pad(image, (2, 2, 2, 2), mode="replicate"), kernel, groups=channels)


def laplacian(image: torch.Tensor) -> torch.Tensor:
    """x - G(U(down2(G x))): U puts each kept sample x4 back on the even grid, zeros elsewhere
    (EulerMormer's ``EdgeLoss.laplacian_kernel``, utils/utils.py)."""
    filtered = _gauss(image)
    upsampled = torch.zeros_like(filtered)
    upsampled[:, :, ::2, ::2] = filtered[:, :, ::2, ::2] * 4
    return image - _gauss(upsampled)


def edge_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Charbonnier between the Laplacians (EulerMormer's ``EdgeLoss``)."""
    return charbonnier(laplacian(x.float()), laplacian(y.float()))


class EulerMormerLoss(nn.Module):
    """EulerMormer's loss (VUT-HFUT/EulerMormer main.py ``train``):

        Charb(out, Y) + w_t Charb(V_A, V_C) + w_s Charb(M_B, M_C) + w_e Edge(out, Y)

    w_t = w_s = 0.1, w_e = 0.5; Charbonnier and Edge as :func:`charbonnier`, :func:`edge_loss`.
    Y is the (noisy, in the original) target; images on the [-1, 1] scale."""

    def __init__(self, texture: float = 0.1, shape: float = 0.1, edge: float = 0.5):
        super().__init__()
        self.texture, self.shape, self.edge = float(texture), float(shape), float(edge)

    def forward(self, output: torch.Tensor, target: torch.Tensor, textures: torch.Tensor,
                shapes: torch.Tensor) -> dict[str, torch.Tensor]:
        """output, target (B, 3, H, W) in [0, 1]; textures, shapes (B, 3, 48, h, w) of A, B, C."""
        out, y = _signed(output), _signed(target)
        loss_image = charbonnier(out, y)
        loss_texture = charbonnier(textures[:, 0], textures[:, 2])
        loss_shape = charbonnier(shapes[:, 1], shapes[:, 2])
        loss_edge = edge_loss(out, y)
        loss = loss_image + self.texture * loss_texture + self.shape * loss_shape + self.edge * loss_edge
        return dict(loss=loss, loss_image=loss_image, loss_texture=loss_texture, loss_shape=loss_shape,
                    loss_edge=loss_edge)


class STBVMMLoss(nn.Module):
    """STB-VMM's loss (RLado/STB-VMM train.py ``train``):

        L1(out, Y) + w L1(R_B, R_C)

    w = 0.1 (``--weight_reg1``); R the feature extractor's (dfe) output; no texture term."""

    def __init__(self, features: float = 0.1):
        super().__init__()
        self.features = float(features)

    def forward(self, output: torch.Tensor, target: torch.Tensor, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """output, target (B, 3, H, W) in [0, 1]; features (B, 3, 192, h, w) of A, B, C."""
        loss_image = _l1(_signed(output), _signed(target))
        loss_features = _l1(features[:, 1], features[:, 2])
        return dict(loss=loss_image + self.features * loss_features, loss_image=loss_image, loss_features=loss_features)


def noisy_frames(frames: torch.Tensor, strength: float, generator: torch.Generator, per_frame: bool = False,
                 target: bool = False, clamp: bool = False) -> torch.Tensor:
    """Shot noise on a batch of samples (B, 4, 3, H, W): frames A, B, C and the target.

    A strength U(0, ``strength``) per sample (Oh et al.) or, ``per_frame``, per frame (EulerMormer's
    and STB-VMM's ``preproc_poisson_noise``, Axial-MM's ``shot_noise``: drawn at each frame's load);
    on A, B, C, and the target too with ``target`` (EulerMormer, STB-VMM); ``clamp`` to the valid
    range afterwards (Axial-MM's clamp(-1, 1)). The noise itself is :func:`shot_noise`'s, the
    originals' std = strength sqrt(I) on the 0-255 scale."""
    n = 4 if target else 3
    count = frames.shape[0] * n if per_frame else frames.shape[0]
    chosen = frames[:, :n].flatten(0, 1) if per_frame else frames[:, :n]
    noisy = shot_noise(chosen, torch.rand(count, generator=generator) * strength, generator)
    if per_frame:
        noisy = noisy.unflatten(0, (frames.shape[0], n))
    if clamp:
        noisy = noisy.clamp(0, 1)
    return torch.cat([noisy, frames[:, n:]], dim=1)
