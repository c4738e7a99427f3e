"""FlowMag's self-supervised loss, through any differentiable flow model (specs/flowmag.md §2).

    L = weight_mag  * mean |F(I0, out) - alpha F(I0, It)|
      + weight_color * mean |warp(out, F(I0, out)) - warp(It, F(I0, It))|

F is frozen; gradients reach ``out`` through F and through the warp. The target flow F(I0, It)
carries no gradient (nothing upstream of it is trained), so it is computed without a graph.
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
