"""Evaluation flow networks from ptlflow (the optional ``motionmag[zoo]`` extra): GMFlow, PWC-Net.

ptlflow is imported only when one of these models is built, so the core install never needs it.
Its models take a (B, 2, 3, H, W) BGR stack in [0, 1] and pad to their own stride themselves.
Checkpoints: ptlflow's ``.ckpt`` (``{"state_dict": ...}``) or, for GMFlow, the authors' ``.pth``
(``{"model": ...}``, same parameter names).
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import torch

from motionmag.errors import MotionmagError
from motionmag.flow.registry import FlowModel
from motionmag.flow.weights import load_strict, read_checkpoint, unwrap_state_dict


def import_ptlflow():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # timm's and lightning's import-time deprecation notices
            return importlib.import_module("ptlflow")
    except ImportError:
        raise MotionmagError(
            "this flow model comes from ptlflow, the optional flow zoo: pip install 'motionmag[zoo]'"
        ) from None


class PtlflowFlow(FlowModel):
    """Any ptlflow model by its ptlflow name, with ptlflow's default settings (FlowMag's for GMFlow:
    128 feature channels, one scale, 6 swin layers, attention splits 2, global matching)."""

    differentiable = True
    supports_amp = True

    def __init__(self, ptlflow_name: str):
        super().__init__()
        ptlflow = import_ptlflow()
        self.ptlflow_name = ptlflow_name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jsonargparse deprecation notices inside ptlflow
            self.net = ptlflow.get_model(ptlflow_name)

    def estimate(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:
        images = torch.stack((img0, img1), dim=1).flip(2)  # (B, 2, 3, H, W), RGB -> BGR
        return self.net({"images": images})["flows"][:, 0]  # (B, 1, 2, H, W) -> (B, 2, H, W)

    def load_checkpoint(self, path: Path) -> None:
        load_strict(self.net, unwrap_state_dict(read_checkpoint(path), "state_dict", "model"), path)
