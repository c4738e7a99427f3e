"""Training the newer encoder / manipulator / decoder networks -- Axial-MM, EulerMormer and STB-VMM --
on Oh-style synthetic sets, through the shared trainer (docs/training.md#the-newer-methods).

    motionmag train axial config/axial/demo.yaml --data axial_demo.h5 -o runs/axial-demo
    motionmag train eulermormer config/eulermormer/demo.yaml --data demo.h5 -o runs/eulermormer-demo
    torchrun --standalone --nproc_per_node 4 -m motionmag train stbvmm config/stbvmm/paper.yaml --data ... -o ...

One task, parameterised by a :class:`Method`: the network, its loss (motionmag.losses), how a
step calls it, and the loader of its files. A step: shot noise as the method's original adds it
(:func:`~motionmag.losses.noisy_frames`: per frame or per sample, on the target or not, clamped
or not), one batched encoder pass over A, B and C, the manipulator on (A, B, factors), the
decoder, then the loss. Axial-MM takes two factors and an angle per sample (per-axis sets from a
recipe with ``axial``; Oh's sets give it alpha on both axes at theta 0, the generic case only).
Oh et al.'s own task (train/oh2018.py) is separate and unchanged.

The exported ``model.pt`` is ``{kind: axial | eulermormer | stbvmm, state_dict, training, ...}``,
which the magnifiers (motionmag.methods.axial, .eulermormer, .stbvmm) load as they load the
authors' files, strictly.
"""

from __future__ import annotations

import copy
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from motionmag import __version__
from motionmag.config import load_yaml_config
from motionmag.errors import MotionmagError
from motionmag.losses import AxialLoss, EulerMormerLoss, STBVMMLoss, noisy_frames
from motionmag.models.axial import build_axial, load_axial_checkpoint
from motionmag.models.eulermormer import build_eulermormer, load_eulermormer_checkpoint
from motionmag.models.stbvmm import build_stbvmm, load_stbvmm_checkpoint
from motionmag.seeding import derive_seed
from motionmag.synth.samples import SyntheticSet
from motionmag.train.probe import PROBE_METRICS, probe
from motionmag.train.trainer import SampleSource, TrainingTask, TrainSettings, initial_weights, result_config, train

HERE = Path(__file__).parent


def _axial_step(model, loss_fn, frames: torch.Tensor, factors: torch.Tensor) -> dict[str, torch.Tensor]:
    result = model(frames[:, 0], frames[:, 1], factors[:, 0], alpha_across=factors[:, 1], theta=factors[:, 2],
                   others=frames[:, 2:3])
    return loss_fn(result["output"], frames[:, 3], result["textures"], result["shapes"])


def _eulermormer_step(model, loss_fn, frames: torch.Tensor, factors: torch.Tensor) -> dict[str, torch.Tensor]:
    result = model(frames[:, 0], frames[:, 1], factors[:, 0], others=frames[:, 2:3])
    return loss_fn(result["output"], frames[:, 3], result["textures"], result["shapes"])


def _stbvmm_step(model, loss_fn, frames: torch.Tensor, factors: torch.Tensor) -> dict[str, torch.Tensor]:
    result = model(frames[:, 0], frames[:, 1], factors[:, 0], others=frames[:, 2:3])
    return loss_fn(result["output"], frames[:, 3], result["features"])


@dataclass(frozen=True)
class Method:
    """What differs between the networks this task trains."""

    name: str  # the exported model's kind, the config folder and the command line's model name
    build: Callable[[], nn.Module]  # a new network in the released configuration
    loss: type[nn.Module]  # built from the config's train.loss weights
    step: Callable  # (model, loss_fn, frames (B, 4, 3, H, W), factors (B, 3)) -> metrics
    metric_names: tuple[str, ...]
    load: Callable[[str | Path], nn.Module]  # an exported model.pt or the authors' file (train.init)
    per_axis: bool = False  # takes (alpha, alpha_across, theta), trains on per-axis sets
    global_rng: bool = False  # draws from torch's global RNG while training (seeded per step here)

    @property
    def schema(self) -> Path:
        return HERE / f"{self.name}.schema.yaml"


METHODS: dict[str, Method] = {
    "axial": Method("axial", build_axial, AxialLoss, _axial_step,
                    ("loss", "loss_image", "loss_texture", "loss_shape_x", "loss_shape_y"), load_axial_checkpoint,
                    per_axis=True),
    "eulermormer": Method("eulermormer", build_eulermormer, EulerMormerLoss, _eulermormer_step,
                          ("loss", "loss_image", "loss_texture", "loss_shape", "loss_edge"), load_eulermormer_checkpoint),
    # drop path (0 -> 0.1 over each stack) draws from torch's global RNG, as timm's does
    "stbvmm": Method("stbvmm", build_stbvmm, STBVMMLoss, _stbvmm_step, ("loss", "loss_image", "loss_features"),
                     load_stbvmm_checkpoint, global_rng=True),
}


def method(name: str) -> Method:
    if name not in METHODS:
        raise MotionmagError(f"no training task for {name!r}; one of {', '.join(METHODS)}")
    return METHODS[name]


def load_network_config(name: str, path: str | Path) -> dict:
    """Read and validate a training config of method ``name`` (defaults, the original's, filled in)."""
    return load_yaml_config(path, method(name).schema, "training config")


def settings_from(config: dict) -> TrainSettings:
    train_cfg, data, log = config["train"], config["data"], config["log"]
    return TrainSettings(
        steps=train_cfg["steps"], batch_size=data["batch_size"], lr=train_cfg["lr"], betas=tuple(train_cfg["betas"]),
        num_workers=data["num_workers"], amp=train_cfg["amp"], seed=train_cfg["seed"], log_every=log["log_every"],
        val_every=log["val_every"], checkpoint_every=log["checkpoint_every"], schedule=train_cfg["schedule"],
    )


def sample_tensor(frames: np.ndarray) -> torch.Tensor:
    """(4, H, W, 3) uint8 -> (4, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float().div_(255.0)


class FactorSource(SampleSource):
    """Samples of a synthetic set: -> ((4, 3, crop, crop) frames A, B, C, amplified; (3,) factors
    alpha, alpha_across, theta). The crop's position is drawn from the sample's seed (the same for
    all four frames); no other augmentation, as in the originals."""

    def __init__(self, samples: SyntheticSet, indices: list[int], crop: int):
        self.samples, self.indices, self.crop = samples, indices, crop

    def __len__(self) -> int:
        return len(self.indices)

    def sample(self, index: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = self.indices[index]
        frames, _ = self.samples[i]
        h, w = frames.shape[1:3]
        if min(h, w) < self.crop:
            raise MotionmagError(f"{self.samples.path}: samples are {w}x{h}, smaller than the crop {self.crop}")
        rng = np.random.default_rng(seed)
        y, x = int(rng.integers(0, h - self.crop + 1)), int(rng.integers(0, w - self.crop + 1))
        frames = frames[:, y : y + self.crop, x : x + self.crop]
        return sample_tensor(np.ascontiguousarray(frames)), torch.tensor(self.samples.factors(i), dtype=torch.float32)


class NetworkTask(TrainingTask):
    """The trainer's task for one of :data:`METHODS` on a synthetic set. ``model``: the network to
    train (default: a new one in the released configuration, the one the magnifiers load)."""

    probe_names = PROBE_METRICS

    def __init__(self, name: str, config: dict, data: str | Path, model: nn.Module | None = None):
        self.method = method(name)
        self.kind, self.metric_names = self.method.name, self.method.metric_names
        self._config = config
        train_cfg, data_cfg = config["train"], config["data"]
        self.loss_fn = self.method.loss(**train_cfg["loss"])
        self.samples = SyntheticSet(data)
        if self.samples.axial and not self.method.per_axis:
            raise MotionmagError(f"{data}: per-axis samples (alpha_across, theta) are Axial-MM's; {name} trains on "
                                 f"samples with one alpha (a recipe without axial)")
        if len(self.samples) < 2:
            raise MotionmagError(f"{data}: too few samples to train and validate on ({len(self.samples)})")
        size = min(self.samples[0][0].shape[1:3])
        if size < data_cfg["crop"]:
            raise MotionmagError(f"{data}: samples are {size} px, smaller than data.crop {data_cfg['crop']}")
        n_val = min(data_cfg["val_samples"], len(self.samples) // 2)
        order = torch.randperm(len(self.samples), generator=torch.Generator().manual_seed(derive_seed(train_cfg["seed"], 0)))
        self.val_indices = sorted(order[:n_val].tolist())
        self.train_indices = sorted(order[n_val:].tolist())
        self.model = self.method.build() if model is None else model

    def config(self) -> dict:
        """The training config minus what does not change a step, plus the data's size and
        fingerprint (other data: start afresh rather than resume)."""
        config = result_config(self._config)
        config["data"].update(samples=len(self.samples), fingerprint=self.samples.fingerprint)
        return config

    def source(self) -> SampleSource:
        return FactorSource(self.samples, self.train_indices, self._config["data"]["crop"])

    def _metrics(self, model, frames: torch.Tensor, factors: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.method.step(model, self.loss_fn, frames, factors)

    def loss(self, model, batch, generator):
        frames, factors = batch
        noise = self._config["train"]["noise"]
        frames = noisy_frames(frames, noise["strength"], generator, noise["per_frame"], noise["target"], noise["clamp"])
        if not self.method.global_rng:
            return self._metrics(model, frames, factors)
        # the global RNG (drop path) seeded from the step's generator: a resumed run draws the same
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        devices = [frames.device.index or 0] if frames.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            return self._metrics(model, frames, factors)

    @torch.no_grad()
    def validate(self, model, device) -> dict[str, float]:
        """The loss terms on the held-out samples, without noise, centre-cropped; the probe."""
        model.eval()
        crop = self._config["data"]["crop"]
        totals = dict.fromkeys(self.metric_names, 0.0)
        for index in self.val_indices:
            frames, _ = self.samples[index]
            y, x = (frames.shape[1] - crop) // 2, (frames.shape[2] - crop) // 2
            batch = sample_tensor(np.ascontiguousarray(frames[:, y : y + crop, x : x + crop]))[None].to(device)
            factors = torch.tensor([self.samples.factors(index)], dtype=torch.float32, device=device)
            metrics = self._metrics(model, batch, factors)
            for name in self.metric_names:
                totals[name] += float(metrics[name]) / len(self.val_indices)
        if self._config["log"]["probe"]:  # alpha on both axes, theta 0 for Axial-MM
            totals.update(probe(lambda a, b, alpha: model(a, b, alpha), device))
        model.train()
        return totals

    def export(self, model, step: int) -> dict:
        return network_payload(self.method.name, model, self._config, step)


def network_payload(name: str, model: nn.Module, config: dict, step: int) -> dict:
    """What inference loads: the weights (``state_dict``, as the magnifiers read the authors'
    files) plus how they were trained."""
    t = config["train"]
    training = dict(loss=t["loss"], noise=t["noise"], lr=t["lr"], betas=list(t["betas"]), schedule=t["schedule"],
                    crop=config["data"]["crop"], batch_size=config["data"]["batch_size"])
    return dict(kind=name, version=__version__, name=config["name"], step=step,
                state_dict=copy.deepcopy(model.state_dict()), training=training)


def train_network(name: str, config_path: str | Path, data: str | Path, out_dir: str | Path, device: str = "cpu",
                  steps: int | None = None, progress: bool = True) -> Path:
    """Train (or resume) method ``name`` (axial, eulermormer, stbvmm) on a synthetic set; returns
    ``model.pt``."""
    config = load_network_config(name, config_path)
    if steps is not None:
        config["train"]["steps"] = steps
    torch.manual_seed(config["train"]["seed"])  # the network's initial weights
    task = NetworkTask(name, config, data)
    if task.method.per_axis and not task.samples.axial and int(os.environ.get("RANK", "0")) == 0:
        print(f"{data}: samples with one alpha: {name} learns the generic case only (alpha on both axes, theta 0); "
              f"per-axis samples come from a recipe with axial (config/synthetic/axial.yaml)", file=sys.stderr)
    init = initial_weights(config["train"]["init"])
    if init is not None:  # a fine-tune; a saved training state, when there is one, still wins
        task.model.load_state_dict(task.method.load(init).state_dict())
    return train(task, settings_from(config), out_dir, device=device, progress=progress)
