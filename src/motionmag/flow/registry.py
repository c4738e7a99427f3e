"""The registry of flow estimators, their common base class, and the one call that builds them.

    model = get_flow_model("raft-things", device="cuda", preset="train")
    flow = model(img0, img1)            # (B, 2, H, W) pixels, img0 -> img1, x then y

Every model takes RGB float in [0, 1] of any size; converting to its own convention, padding to
its multiple and cropping back is the model's business. Models come back frozen: eval mode that
``.train()`` cannot undo, and no parameter gradients, while gradients still reach the inputs.
"""

from __future__ import annotations

import inspect
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from motionmag.errors import MotionmagError

# FlowMag's RAFT settings (docs/flowmag.md#the-original-flow-models): 5 refinement iterations
# inside the training loss and test-time adaptation, 20 for evaluation and data filtering.
PRESETS = ("train", "eval")


class FlowModel(nn.Module):
    """Base of every estimator. Subclasses implement ``estimate`` on padded inputs."""

    differentiable: bool = False
    pad_multiple: int = 1  # H and W are padded (replicating edges) up to a multiple of this
    min_size: int = 0  # ... and to at least this
    supports_amp: bool = False  # networks only: the weight-free estimators need full precision
    amp: bool = False  # bf16 autocast on CUDA, where supported
    # BatchNorm normalises by the statistics of each call's own batch, as in train mode, instead of
    # its running statistics; the running statistics are neither used nor updated. FlowMag's eval.py
    # never put its RAFT in eval mode, so its context encoder did this (evaluation protocol "paper").
    batch_norm_batch_stats: bool = False

    def forward(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:
        if img0.ndim != 4 or img0.shape[1] != 3 or img0.shape != img1.shape:
            raise MotionmagError(
                f"flow models take two (B, 3, H, W) RGB batches of equal shape, got {tuple(img0.shape)} and {tuple(img1.shape)}"
            )
        if not (img0.is_floating_point() and img1.is_floating_point()):
            raise MotionmagError(f"flow models take float images in [0, 1], got {img0.dtype} and {img1.dtype}")
        # float32 in, whatever the caller's autocast: amp (below) is this model's own choice
        img0, img1 = img0.float(), img1.float()
        h, w = img0.shape[-2:]
        m = self.pad_multiple
        pad_h = max(math.ceil(h / m), math.ceil(self.min_size / m)) * m - h
        pad_w = max(math.ceil(w / m), math.ceil(self.min_size / m)) * m - w
        if pad_h or pad_w:
            img0 = F.pad(img0, (0, pad_w, 0, pad_h), mode="replicate")
            img1 = F.pad(img1, (0, pad_w, 0, pad_h), mode="replicate")
        use_amp = self.amp and self.supports_amp and img0.is_cuda
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp), self._batch_norm_mode():
            flow = self.estimate(img0, img1)
        return flow[..., :h, :w].float()

    @contextmanager
    def _batch_norm_mode(self):
        """With ``batch_norm_batch_stats``: every BatchNorm in train mode for this call, but with
        ``track_running_stats`` off, so it normalises by the batch's statistics (exactly as in train
        mode) and leaves its buffers (running mean, variance, batch count) untouched."""
        norms = [m for m in self.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)] if self.batch_norm_batch_stats else []
        saved = [(m.training, m.track_running_stats) for m in norms]
        try:
            for m in norms:
                m.training, m.track_running_stats = True, False
            yield
        finally:
            for m, (training, track) in zip(norms, saved):
                m.training, m.track_running_stats = training, track

    def estimate(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def load_checkpoint(self, path: Path) -> None:
        raise MotionmagError(f"{type(self).__name__} has no weights to load")

    def train(self, mode: bool = True) -> "FlowModel":
        # Frozen for good: the original FlowMag left RAFT in train mode inside its loss, so its
        # BatchNorm statistics drifted during training. A parent's .train() cannot do that here.
        return super().train(False)


@dataclass(frozen=True)
class FlowSpec:
    """What the registry knows about a model without building it (for ``motionmag flow list``)."""

    name: str
    build: Callable[..., FlowModel]
    summary: str = ""
    differentiable: bool = False
    needs_weights: bool = False  # pretrained weights are listed in config/weights.yaml under `name`
    extra: str | None = None  # the optional dependency group it needs, e.g. "zoo"
    presets: dict[str, dict] = field(default_factory=dict)


_REGISTRY: dict[str, FlowSpec] = {}


def register_flow_model(
    name: str,
    build: Callable[..., FlowModel],
    *,
    summary: str = "",
    differentiable: bool | None = None,
    needs_weights: bool = False,
    extra: str | None = None,
    presets: dict[str, dict] | None = None,
) -> None:
    if differentiable is None:
        differentiable = bool(getattr(build, "differentiable", False))
    _REGISTRY[name] = FlowSpec(name, build, summary, differentiable, needs_weights, extra, presets or {})


def list_flow_models() -> list[str]:
    return sorted(_REGISTRY)


def flow_spec(name: str) -> FlowSpec:
    if name not in _REGISTRY:
        raise MotionmagError(f"unknown flow model {name!r}; choose one of {', '.join(list_flow_models())}")
    return _REGISTRY[name]


def get_flow_model(
    name: str,
    device: str | torch.device = "cpu",
    *,
    preset: str | None = None,
    pretrained: bool = True,
    weights: str | Path | None = None,
    store=None,
    amp: bool = False,
    batch_norm_batch_stats: bool = False,
    **kwargs,
) -> FlowModel:
    """Build the named estimator on ``device``, frozen.

    preset: "train" or "eval" (FlowMag's settings; RAFT: 5 or 20 iterations; default eval).
    pretrained: load the weights listed in config/weights.yaml (verified by sha256); False gives
        random weights (tests, benchmarks). weights: a checkpoint file to load instead, in any
        format the model understands. store: a ``WeightsStore`` other than the default one.
    amp: run in bf16 autocast on CUDA (ignored on the CPU).
    batch_norm_batch_stats: BatchNorm layers normalise by each call's batch statistics, as FlowMag's
        eval.py ran RAFT (train mode), without touching their running statistics.
    """
    spec = flow_spec(name)
    if preset is not None and preset not in PRESETS:
        raise MotionmagError(f"unknown flow preset {preset!r}; choose one of {', '.join(PRESETS)}")
    options = {**spec.presets.get(preset or "eval", {}), **kwargs}
    accepted = inspect.signature(spec.build).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        raise MotionmagError(f"flow model {name!r} has no option {', '.join(unknown)}")
    if weights is not None and not spec.needs_weights:
        raise MotionmagError(f"flow model {name!r} is weight-free: it takes no weights file")
    model = spec.build(**options)
    if spec.needs_weights and (pretrained or weights is not None):
        if weights is None:
            from motionmag.flow.weights import WeightsStore

            weights = (store or WeightsStore()).require(name)
        elif not Path(weights).is_file():
            raise MotionmagError(f"weights file {weights} does not exist")
        model.load_checkpoint(Path(weights))
    model = model.to(device).eval()
    model.amp = amp
    model.batch_norm_batch_stats = batch_norm_batch_stats
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model
