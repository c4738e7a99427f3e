"""Training FlowMag: the task the shared trainer runs (docs/flowmag.md#the-original-training).

    motionmag train flowmag config/flowmag/demo.yaml --pairs results/pairs/demo.h5 -o results/train/flowmag/demo
    torchrun --standalone --nproc_per_node 4 -m motionmag train flowmag config/flowmag/raft.yaml --pairs ... -o ...
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from motionmag import __version__
from motionmag.config import load_yaml_config
from motionmag.data.augment import apply_seeded, eval_transform, to_pair_tensor, train_transform
from motionmag.data.pairs import PairSet
from motionmag.errors import MotionmagError
from motionmag.models.flowmag import FlowMagGenerator, GeneratorConfig
from motionmag.losses import FlowMagLoss
from motionmag.train.probe import PROBE_METRICS, probe
from motionmag.seeding import alpha_log_uniform, derive_seed
from motionmag.train.trainer import (SampleSource, TrainingTask, TrainSettings,
                                     initial_weights, result_config, train)

SCHEMA = Path(__file__).with_name("flowmag.schema.yaml")
VAL_ALPHAS = (2.0, 4.0, 8.0, 16.0)  # validation cycles through these: comparable across runs


def load_flowmag_config(path: str | Path) -> dict:
    """Read and validate a FlowMag training config (defaults filled in)."""
    config = load_yaml_config(path, SCHEMA, "training config")
    train_cfg = config["train"]
    if train_cfg["alpha_high"] < train_cfg["alpha_low"]:
        raise MotionmagError(f"{path}: train.alpha_high is below train.alpha_low")
    if config["data"]["color_jitter"][3] > 0.5:
        raise MotionmagError(f"{path}: data.color_jitter hue is at most 0.5 (half the colour wheel)")
    return config


def settings_from(config: dict) -> TrainSettings:
    train_cfg, data, log = config["train"], config["data"], config["log"]
    return TrainSettings(
        steps=train_cfg["steps"], batch_size=data["batch_size"], lr=train_cfg["lr"], num_workers=data["num_workers"],
        amp=train_cfg["amp"], seed=train_cfg["seed"], log_every=log["log_every"], val_every=log["val_every"],
        checkpoint_every=log["checkpoint_every"],
    )


class PairSource(SampleSource):
    """Pairs of a pair file, augmented: sample -> (2, 3, crop, crop) float in [0, 1]."""

    def __init__(self, pairs: PairSet, indices: list[int], transform):
        self.pairs, self.indices, self.transform = pairs, indices, transform

    def __len__(self) -> int:
        return len(self.indices)

    def sample(self, index: int, seed: int) -> torch.Tensor:
        return apply_seeded(self.transform, to_pair_tensor(*self.pairs[self.indices[index]]), seed)


class FlowMagTask(TrainingTask):
    kind = "flowmag"
    metric_names = ("loss", "loss_mag", "loss_color")
    probe_names = PROBE_METRICS

    def __init__(self, config: dict, pairs: str | Path, store=None, flow_weights: str | Path | None = None):
        from motionmag.flow import get_flow_model

        self._config = config
        train_cfg, data = config["train"], config["data"]
        self.model = FlowMagGenerator(GeneratorConfig(**config["model"]))
        flow = get_flow_model(train_cfg["flow"], preset=train_cfg["flow_preset"], amp=train_cfg["flow_amp"],
                              store=store, weights=flow_weights)
        self.loss_fn = FlowMagLoss(flow, train_cfg["weight_mag"], train_cfg["weight_color"])
        self.pairs = PairSet(pairs)
        n_val = min(data["val_pairs"], len(self.pairs) // 2)
        order = torch.randperm(len(self.pairs), generator=torch.Generator().manual_seed(derive_seed(train_cfg["seed"], 0)))
        self.val_indices = sorted(order[:n_val].tolist())
        self.train_indices = sorted(order[n_val:].tolist())
        if not self.train_indices:
            raise MotionmagError(f"{pairs}: too few pairs to train on ({len(self.pairs)})")

    def config(self) -> dict:
        """The training config minus what does not change a step, plus the pair file's size and
        fingerprint (other data: start afresh rather than resume)."""
        config = result_config(self._config)
        config["data"].update(pairs=len(self.pairs), fingerprint=self.pairs.fingerprint)
        return config

    def to(self, device) -> None:
        self.loss_fn.to(device)

    def source(self) -> SampleSource:
        data = self._config["data"]
        transform = train_transform(data["crop"], data["aug"], data["rotation"], tuple(data["color_jitter"]))
        return PairSource(self.pairs, self.train_indices, transform)

    def loss(self, model, batch, generator):
        frame0, frame_t = batch[:, 0], batch[:, 1]
        t = self._config["train"]
        alpha = alpha_log_uniform(batch.shape[0], t["alpha_low"], t["alpha_high"], generator).to(batch.device)
        return self.loss_fn(frame0, frame_t, model(frame0, frame_t, alpha), alpha)

    @torch.no_grad()
    def validate(self, model, device) -> dict[str, float]:
        model.eval()
        transform = eval_transform(self._config["data"]["crop"])
        totals = dict.fromkeys(self.metric_names, 0.0)
        for i, index in enumerate(self.val_indices):
            pair = transform(to_pair_tensor(*self.pairs[index])).to(device)
            alpha = torch.tensor([VAL_ALPHAS[i % len(VAL_ALPHAS)]], device=device)
            metrics = self.loss_fn(pair[:1], pair[1:], model(pair[:1], pair[1:], alpha), alpha)
            for name in self.metric_names:
                totals[name] += float(metrics[name]) / len(self.val_indices)
        totals.update(probe(lambda a, b, alpha: model(a, b, torch.tensor([alpha], device=a.device)), device))
        model.train()
        return totals

    def export(self, model, step: int) -> dict:
        return flowmag_payload(model, self._config, step)


def flowmag_payload(model: FlowMagGenerator, config: dict, step: int) -> dict:
    """What inference loads: the generator's config and weights plus how it was trained."""
    t = config["train"]
    return dict(
        kind="flowmag", version=__version__, name=config["name"], step=step,
        generator=model.config.to_dict(), state_dict=copy.deepcopy(model.state_dict()),
        training=dict(flow=t["flow"], flow_preset=t["flow_preset"], alpha_low=t["alpha_low"], alpha_high=t["alpha_high"],
                      weight_mag=t["weight_mag"], weight_color=t["weight_color"], crop=config["data"]["crop"]),
    )


def train_flowmag(config_path: str | Path, pairs: str | Path, out_dir: str | Path, device: str = "cpu",
                  steps: int | None = None, progress: bool = True, weights_manifest=None, weights_dir=None,
                  flow_weights: str | Path | None = None) -> Path:
    """Train (or resume) one FlowMag variant; returns the exported ``model.pt``."""
    from motionmag.flow.weights import WeightsStore

    config = load_flowmag_config(config_path)
    if steps is not None:
        config["train"]["steps"] = steps
    torch.manual_seed(config["train"]["seed"])  # the generator's initial weights
    store = WeightsStore(weights_manifest, weights_dir) if (weights_manifest or weights_dir) else None
    task = FlowMagTask(config, pairs, store=store, flow_weights=flow_weights)
    init = initial_weights(config["train"]["init"])
    if init is not None:  # a fine-tune; a saved training state, when there is one, still wins
        from motionmag.methods.flowmag import load_flowmag

        generator, _ = load_flowmag(init)
        if generator.config != task.model.config:
            raise MotionmagError(f"train.init: {init} is a {generator.config} generator, the config asks for {task.model.config}")
        task.model.load_state_dict(generator.state_dict())
    return train(task, settings_from(config), out_dir, device=device, progress=progress)
