"""The learned magnifiers' losses.

FlowMag's self-supervised loss, through any differentiable flow model
(docs/flowmag.md#the-original-training):

    L = weight_mag  * mean |F(I0, out) - alpha F(I0, It)|
      + weight_color * mean |warp(out, F(I0, out)) - warp(It, F(I0, It))|

F is frozen; gradients reach ``out`` through F and through the warp. The target flow F(I0, It)
carries no gradient (nothing upstream of it is trained), so it is computed without a graph.

Oh et al. 2018's supervised loss on synthetic samples (docs/oh2018.md#the-original-training):
see :class:`OhLoss`.
"""

from __future__ import annotations

import torch
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
