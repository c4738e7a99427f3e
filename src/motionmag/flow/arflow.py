"""ARFlow's PWC-Lite (Liu et al. 2020), ported so that its official checkpoints load unchanged.

FlowMag's unsupervised variant trains through ``checkpoints/KITTI15/pwclite_ar.tar`` with
``upsample=True, n_frames=2, reduce_dense=True`` and the pure-torch correlation (search range 4);
the flow is the finest output (1/4 resolution, bilinearly upsampled x4). Module names follow
lliuz/ARFlow ``models/pwclite.py`` so that state-dict keys match.

One fix: the original warps with ``grid_sample``'s pre-1.3 default ``align_corners=True`` (its
grid is normalised by W-1); newer torch defaults to False, which would shift every warp by half a
pixel. ``backward_warp`` keeps the original meaning.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from motionmag.flow.registry import FlowModel
from motionmag.flow.warp import backward_warp
from motionmag.flow.weights import load_strict, read_checkpoint, unwrap_state_dict


def conv(ch_in: int, ch_out: int, kernel_size: int = 3, stride: int = 1, dilation: int = 1, relu: bool = True):
    layers = [nn.Conv2d(ch_in, ch_out, kernel_size, stride, padding=(kernel_size - 1) * dilation // 2, dilation=dilation)]
    if relu:
        layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


def correlation(x1: torch.Tensor, x2: torch.Tensor, max_displacement: int = 4) -> torch.Tensor:
    """Cost volume: (B, C, H, W) x2 -> (B, (2d+1)^2, H, W), channel-mean of x1 * shifted x2."""
    h, w = x1.shape[-2:]
    d = max_displacement
    padded = F.pad(x2, [d] * 4)
    costs = [
        (x1 * padded[:, :, i : i + h, j : j + w]).mean(1, keepdim=True) for i in range(2 * d + 1) for j in range(2 * d + 1)
    ]
    return torch.cat(costs, 1)


class FeatureExtractor(nn.Module):
    """Six stride-2 stages: (B, 3, H, W) -> [(B, 192, H/64, W/64), ..., (B, 16, H/2, W/2)], coarse first."""

    def __init__(self, num_chs=(3, 16, 32, 64, 96, 128, 192)):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Sequential(conv(ch_in, ch_out, stride=2), conv(ch_out, ch_out)) for ch_in, ch_out in zip(num_chs[:-1], num_chs[1:])
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        pyramid = []
        for stage in self.convs:
            x = stage(x)
            pyramid.append(x)
        return pyramid[::-1]


class FlowEstimatorReduce(nn.Module):
    """The lighter ("reduce_dense") flow decoder shared by all levels: features (32) and residual flow (2)."""

    feat_dim = 32

    def __init__(self, ch_in: int):
        super().__init__()
        self.conv1 = conv(ch_in, 128)
        self.conv2 = conv(128, 128)
        self.conv3 = conv(128 + 128, 96)
        self.conv4 = conv(128 + 96, 64)
        self.conv5 = conv(96 + 64, 32)
        self.predict_flow = conv(64 + 32, 2, relu=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x1 = self.conv1(x)
        x2 = self.conv2(x1)
        x3 = self.conv3(torch.cat([x1, x2], 1))
        x4 = self.conv4(torch.cat([x2, x3], 1))
        x5 = self.conv5(torch.cat([x3, x4], 1))
        return x5, self.predict_flow(torch.cat([x4, x5], 1))


class ContextNetwork(nn.Module):
    """Dilated convolutions refining the flow with context (dilations 1, 2, 4, 8, 16, 1)."""

    def __init__(self, ch_in: int):
        super().__init__()
        self.convs = nn.Sequential(
            conv(ch_in, 128, 3, 1, 1),
            conv(128, 128, 3, 1, 2),
            conv(128, 128, 3, 1, 4),
            conv(128, 96, 3, 1, 8),
            conv(96, 64, 3, 1, 16),
            conv(64, 32, 3, 1, 1),
            conv(32, 2, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x)


class PWCLite(nn.Module):
    """Two-frame PWC-Lite: returns flows img1 -> img2 from fine (1/4, upsampled to full) to coarse."""

    search_range = 4
    output_level = 4  # stop at 1/4 resolution

    def __init__(self):
        super().__init__()
        self.feature_pyramid_extractor = FeatureExtractor()
        dim_corr = (2 * self.search_range + 1) ** 2
        self.flow_estimators = FlowEstimatorReduce(32 + dim_corr + 2)
        self.context_networks = ContextNetwork(FlowEstimatorReduce.feat_dim + 2)
        self.conv_1x1 = nn.ModuleList(conv(ch, 32, kernel_size=1) for ch in (192, 128, 96, 64, 32))
        self.leaky_relu = nn.LeakyReLU(0.1, inplace=True)

    def forward(self, img1: torch.Tensor, img2: torch.Tensor) -> list[torch.Tensor]:
        # one encoder pass for both frames; levels coarse (1/64) to fine (1/2)
        features = [level.chunk(2) for level in self.feature_pyramid_extractor(torch.cat([img1, img2]))]
        b, _, h, w = features[0][0].shape
        flow = torch.zeros(b, 2, h, w, dtype=img1.dtype, device=img1.device)
        flows = []
        for level, (x1, x2) in enumerate(features):
            if level > 0:
                flow = F.interpolate(flow * 2, scale_factor=2, mode="bilinear", align_corners=True)
                x2 = backward_warp(x2, flow)
            corr = self.leaky_relu(correlation(x1, x2, self.search_range))
            features_intermediate, flow_residual = self.flow_estimators(torch.cat([corr, self.conv_1x1[level](x1), flow], 1))
            flow = flow + flow_residual
            flow = flow + self.context_networks(torch.cat([features_intermediate, flow], 1))
            flows.append(flow)
            if level == self.output_level:
                break
        return [F.interpolate(f * 4, scale_factor=4, mode="bilinear", align_corners=True) for f in flows[::-1]]


class ARFlow(FlowModel):
    """``arflow-kitti``: PWC-Lite, input RGB in [0, 1] without normalisation, as ARFlow trains it."""

    differentiable = True
    supports_amp = True
    pad_multiple = 64  # six stride-2 stages

    def __init__(self):
        super().__init__()
        self.net = PWCLite()

    def estimate(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:
        return self.net(img0, img1)[0]

    def load_checkpoint(self, path: Path) -> None:
        # pwclite_ar.tar: {"epoch": int, "state_dict": {...}}, saved from model.module
        load_strict(self.net, unwrap_state_dict(read_checkpoint(path), "state_dict"), path)
