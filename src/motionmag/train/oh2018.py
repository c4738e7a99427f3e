"""Training Oh et al. 2018: the task the shared trainer runs (docs/oh2018.md#the-original-training).

    motionmag train oh2018 config/oh2018/demo.yaml --data results/synthetic/demo/manifest.json -o results/train/oh2018/demo
    torchrun --standalone --nproc_per_node 4 -m motionmag train oh2018 config/oh2018/paper.yaml --data ... -o ...

A step: shot noise on frames A, B and C (strength U(0, 0.3) per sample), one batched encoder pass
over A, B, C (and the target for the paper's loss), the manipulator on (M_A, M_B, alpha), the
decoder on (V_B, manipulated shape), then the loss of :class:`~motionmag.losses.OhLoss`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from motionmag import __version__
from motionmag.config import load_yaml_config
from motionmag.synth.samples import SyntheticSet
from motionmag.errors import MotionmagError
from motionmag.models.oh2018 import OhMagNet
from motionmag.losses import OhLoss, shot_noise
from motionmag.train.probe import PROBE_METRICS, probe
from motionmag.seeding import derive_seed
from motionmag.train.trainer import SampleSource, TrainingTask, TrainSettings, initial_weights, result_config, train

SCHEMA = Path(__file__).with_name("oh2018.schema.yaml")


def load_oh2018_config(path: str | Path) -> dict:
    """Read and validate an Oh 2018 training config (defaults filled in)."""
    return load_yaml_config(path, SCHEMA, "training config")


def settings_from(config: dict) -> TrainSettings:
    train_cfg, data, log = config["train"], config["data"], config["log"]
    return TrainSettings(
        steps=train_cfg["steps"], batch_size=data["batch_size"], lr=train_cfg["lr"], betas=tuple(train_cfg["betas"]),
        num_workers=data["num_workers"], amp=train_cfg["amp"], seed=train_cfg["seed"], log_every=log["log_every"],
        val_every=log["val_every"], checkpoint_every=log["checkpoint_every"],
    )


def sample_tensor(frames: np.ndarray) -> torch.Tensor:
    """(4, H, W, 3) uint8 -> (4, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float().div_(255.0)


class SyntheticSource(SampleSource):
    """Samples of a synthetic file: -> ((4, 3, crop, crop) frames A, B, C, amplified; alpha).
    The crop's position is drawn from the sample's seed (the same for all four frames); no flips
    or other augmentation, as in the original."""

    def __init__(self, samples: SyntheticSet, indices: list[int], crop: int):
        self.samples, self.indices, self.crop = samples, indices, crop

    def __len__(self) -> int:
        return len(self.indices)

    def sample(self, index: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        frames, alpha = self.samples[self.indices[index]]
        h, w = frames.shape[1:3]
        if min(h, w) < self.crop:
            raise MotionmagError(f"{self.samples.path}: samples are {w}x{h}, smaller than the crop {self.crop}")
        rng = np.random.default_rng(seed)
        y, x = int(rng.integers(0, h - self.crop + 1)), int(rng.integers(0, w - self.crop + 1))
        frames = frames[:, y : y + self.crop, x : x + self.crop]
        return sample_tensor(np.ascontiguousarray(frames)), torch.tensor(alpha, dtype=torch.float32)


class OhTask(TrainingTask):
    kind = "oh2018"
    metric_names = ("loss", "loss_image", "loss_texture", "loss_shape", "loss_texture_amp")
    probe_names = PROBE_METRICS

    def __init__(self, config: dict, data: str | Path):
        self._config = config
        train_cfg, data_cfg = config["train"], config["data"]
        self.model = OhMagNet()
        self.loss_fn = OhLoss(train_cfg["loss"], train_cfg["loss_weight"])
        self.samples = SyntheticSet(data)
        if len(self.samples) < 2:
            raise MotionmagError(f"{data}: too few samples to train and validate on ({len(self.samples)})")
        size = min(self.samples[0][0].shape[1:3])
        if size < data_cfg["crop"]:
            raise MotionmagError(f"{data}: samples are {size} px, smaller than data.crop {data_cfg['crop']}")
        n_val = min(data_cfg["val_samples"], len(self.samples) // 2)
        order = torch.randperm(len(self.samples), generator=torch.Generator().manual_seed(derive_seed(train_cfg["seed"], 0)))
        self.val_indices = sorted(order[:n_val].tolist())
        self.train_indices = sorted(order[n_val:].tolist())
        if not self.train_indices:
            raise MotionmagError(f"{data}: too few samples to train on ({len(self.samples)})")

    def config(self) -> dict:
        """The training config minus what does not change a step, plus the data's size and
        fingerprint (other data: start afresh rather than resume)."""
        config = result_config(self._config)
        config["data"].update(samples=len(self.samples), fingerprint=self.samples.fingerprint)
        return config

    def source(self) -> SampleSource:
        return SyntheticSource(self.samples, self.train_indices, self._config["data"]["crop"])

    def _metrics(self, model, frames: torch.Tensor, alpha: torch.Tensor) -> dict[str, torch.Tensor]:
        """frames (B, 4, 3, H, W): A, B, C (already noisy or not), target."""
        others = frames[:, 2:4] if self.loss_fn.encodes_target else frames[:, 2:3]
        result = model(frames[:, 0], frames[:, 1], alpha, others=others)
        return self.loss_fn(result["output"], frames[:, 3], result["textures"], result["shapes"])

    def loss(self, model, batch, generator):
        frames, alpha = batch
        strength = torch.rand(frames.shape[0], generator=generator) * self._config["train"]["shot_noise"]
        noisy = torch.cat([shot_noise(frames[:, :3], strength, generator), frames[:, 3:]], dim=1)
        return self._metrics(model, noisy, alpha)

    @torch.no_grad()
    def validate(self, model, device) -> dict[str, float]:
        """The loss terms on the held-out samples, without noise, centre-cropped."""
        model.eval()
        crop = self._config["data"]["crop"]
        totals = dict.fromkeys(self.metric_names, 0.0)
        for index in self.val_indices:
            frames, alpha = self.samples[index]
            y, x = (frames.shape[1] - crop) // 2, (frames.shape[2] - crop) // 2
            batch = sample_tensor(np.ascontiguousarray(frames[:, y : y + crop, x : x + crop]))[None].to(device)
            metrics = self._metrics(model, batch, torch.tensor([alpha], device=device))
            for name in self.metric_names:
                totals[name] += float(metrics[name]) / len(self.val_indices)
        totals.update(probe(lambda a, b, alpha: model(a, b, alpha), device))
        model.train()
        return totals

    def export(self, model, step: int) -> dict:
        return oh2018_payload(model, self._config, step)


def oh2018_payload(model: OhMagNet, config: dict, step: int) -> dict:
    """What inference loads: the weights plus how they were trained."""
    t = config["train"]
    return dict(kind="oh2018", version=__version__, name=config["name"], step=step,
                state_dict=copy.deepcopy(model.state_dict()),
                training=dict(loss=t["loss"], loss_weight=t["loss_weight"], shot_noise=t["shot_noise"], crop=config["data"]["crop"]))


def train_oh2018(config_path: str | Path, data: str | Path, out_dir: str | Path, device: str = "cpu",
                 steps: int | None = None, progress: bool = True) -> Path:
    """Train (or resume) one Oh 2018 variant on a synthetic sample file; returns ``model.pt``."""
    config = load_oh2018_config(config_path)
    if steps is not None:
        config["train"]["steps"] = steps
    torch.manual_seed(config["train"]["seed"])  # the network's initial weights
    task = OhTask(config, data)
    init = initial_weights(config["train"]["init"])
    if init is not None:  # a fine-tune; a saved training state, when there is one, still wins
        from motionmag.methods.oh2018 import load_oh2018

        task.model.load_state_dict(load_oh2018(init)[0].state_dict())
    return train(task, settings_from(config), out_dir, device=device, progress=progress)
