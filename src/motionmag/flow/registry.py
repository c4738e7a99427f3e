"""The registry of flow estimators and their common base class."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from motionmag.errors import MotionmagError


class FlowModel(nn.Module):
    """Base of every estimator: ``forward(img0, img1) -> (B, 2, H, W)`` displacement img0 -> img1."""

    differentiable: bool = False

    def forward(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


_REGISTRY: dict[str, Callable[..., FlowModel]] = {}


def register_flow_model(name: str, factory: Callable[..., FlowModel]) -> None:
    _REGISTRY[name] = factory


def list_flow_models() -> list[str]:
    return sorted(_REGISTRY)


def get_flow_model(name: str, device: str | torch.device = "cpu", **kwargs) -> FlowModel:
    """Build the named estimator on ``device``, in eval mode, with its parameters frozen."""
    if name not in _REGISTRY:
        raise MotionmagError(f"unknown flow model {name!r}; choose one of {', '.join(list_flow_models())}")
    model = _REGISTRY[name](**kwargs).to(device).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model
