"""Training a flow network here: RAFT on rendered pairs whose dense flow is known exactly.

    motionmag train flow config/flow/raft_small_rendered.yaml -o results/train/flow/raft_small_rendered

FlowMag's loss backpropagates through a frozen flow network; pretrained RAFT weights cannot be
downloaded offline, and the weight-free Lucas-Kanade estimator can be fooled by changes of
brightness. So the demo trains its own: torchvision's RAFT (small by default) with RAFT's
supervised sequence loss, ``sum_i gamma^(N-1-i) |f_i - f_gt|_1`` over the N refinement
iterations, on pairs from :mod:`motionmag.synth.flow_pairs`. The exported ``model.pt`` holds a
torchvision state dict, so ``RAFTFlow.load_checkpoint`` reads it like any RAFT checkpoint.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torchvision.models.optical_flow import raft_large, raft_small

from motionmag import __version__
from motionmag.config import load_yaml_config
from motionmag.synth.flow_pairs import FlowPairRecipe, FlowPairRenderer, PhotoPool
from motionmag.seeding import derive_seed
from motionmag.train.trainer import SampleSource, TrainingTask, TrainSettings, result_config, train

SCHEMA = Path(__file__).with_name("flow.schema.yaml")
VIRTUAL_PAIRS = 1_000_000  # pairs are rendered on the fly: the stream never repeats in practice
VAL_SEED = 7_777_777  # validation pairs come from seeds the training stream never draws


def load_flow_config(path: str | Path) -> dict:
    return load_yaml_config(path, SCHEMA, "training config")


def settings_from(config: dict) -> TrainSettings:
    train_cfg, data, log = config["train"], config["data"], config["log"]
    return TrainSettings(
        steps=train_cfg["steps"], batch_size=data["batch_size"], lr=train_cfg["lr"], num_workers=data["num_workers"],
        amp=train_cfg["amp"], seed=train_cfg["seed"], log_every=log["log_every"], val_every=log["val_every"],
        checkpoint_every=log["checkpoint_every"], grad_clip=train_cfg["grad_clip"],
    )


def renderer_from(config: dict) -> FlowPairRenderer:
    data = config["data"]
    recipe = FlowPairRecipe(size=data["crop"], motion=tuple(data["motion"]), rotation=data["rotation"],
                            scaling=data["scaling"], objects=tuple(data["objects"]), noise=data["noise"])
    return FlowPairRenderer(recipe, PhotoPool(data["clips"]))


def pair_tensors(frame0: np.ndarray, frame1: np.ndarray, flow: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """-> ((2, 3, S, S) float frames in [0, 1], (2, S, S) flow)."""
    frames = torch.from_numpy(np.stack([frame0, frame1])).permute(0, 3, 1, 2).float().div_(255.0)
    return frames, torch.from_numpy(flow).permute(2, 0, 1).contiguous()


class RenderedFlowSource(SampleSource):
    def __init__(self, renderer: FlowPairRenderer):
        self.renderer = renderer

    def __len__(self) -> int:
        return VIRTUAL_PAIRS

    def sample(self, index: int, seed: int):
        return pair_tensors(*self.renderer.render(np.random.default_rng(seed)))


def sequence_loss(predictions: list[torch.Tensor], truth: torch.Tensor, gamma: float, max_flow: float) -> torch.Tensor:
    """RAFT's loss: L1 of every iteration's flow, later iterations weighted more."""
    valid = (truth.norm(dim=1, keepdim=True) < max_flow).float()
    n = len(predictions)
    return sum(gamma ** (n - 1 - i) * ((p - truth).abs() * valid).mean() for i, p in enumerate(predictions))


def end_point_error(flow: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance between estimated and true flow vectors."""
    return (flow - truth).norm(dim=1).mean()


class FlowTask(TrainingTask):
    kind = "flow"
    metric_names = ("loss", "epe")

    def __init__(self, config: dict):
        self._config = config
        build = raft_small if config["model"]["size"] == "small" else raft_large
        self.model = build(weights=None, progress=False)
        self.renderer = renderer_from(config)

    def config(self) -> dict:
        config = result_config(self._config)
        config["data"]["pool"] = self.renderer.pool.names  # other photos: start afresh
        return config

    def source(self) -> SampleSource:
        return RenderedFlowSource(self.renderer)

    def loss(self, model, batch, generator):
        frames, truth = batch
        t = self._config["train"]
        predictions = model(2 * frames[:, 0] - 1, 2 * frames[:, 1] - 1, num_flow_updates=t["iters"])
        loss = sequence_loss(predictions, truth, t["gamma"], t["max_flow"])
        return {"loss": loss, "epe": end_point_error(predictions[-1].detach(), truth)}

    @torch.no_grad()
    def validate(self, model, device) -> dict[str, float]:
        model.eval()
        t = self._config["train"]
        totals = dict.fromkeys(self.metric_names, 0.0)
        n = self._config["data"]["val_pairs"]
        for i in range(n):
            frames, truth = pair_tensors(*self.renderer.render(np.random.default_rng(derive_seed(VAL_SEED, i))))
            frames, truth = frames.to(device), truth[None].to(device)
            predictions = model(2 * frames[:1] - 1, 2 * frames[1:] - 1, num_flow_updates=20)  # the eval preset
            totals["loss"] += float(sequence_loss(predictions, truth, t["gamma"], t["max_flow"])) / n
            totals["epe"] += float(end_point_error(predictions[-1], truth)) / n
        model.train()
        return totals

    def export(self, model, step: int) -> dict:
        return dict(kind="raft", version=__version__, name=self._config["name"], step=step,
                    size=self._config["model"]["size"], state_dict=copy.deepcopy(model.state_dict()),
                    training=dict(data=self._config["data"], iters=self._config["train"]["iters"]))


def train_flow(config_path: str | Path, out_dir: str | Path, device: str = "cpu", steps: int | None = None,
               progress: bool = True) -> Path:
    """Train (or resume) a flow network on rendered pairs; returns the exported ``model.pt``."""
    config = load_flow_config(config_path)
    if steps is not None:
        config["train"]["steps"] = steps
    torch.manual_seed(config["train"]["seed"])  # the network's initial weights
    return train(FlowTask(config), settings_from(config), out_dir, device=device, progress=progress)
