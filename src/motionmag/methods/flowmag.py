"""FlowMag inference: stream a video through the generator, every frame against frame 0.

    magnifier = FlowMagMagnifier("results/train/flowmag/demo/model.pt")
    magnifier.adapt(open_video("clip.mp4"), steps=200)       # optional test-time adaptation
    for frame in magnifier.magnify(open_video("clip.mp4"), alpha=20, mask=soft_mask): ...

Frames go through in batches (memory flat in video length; nothing is kept but frame 0); any
frame size; alpha above the trained range (16) by repeated passes of alpha**(1/n), and alpha 16
itself in one pass (the original rejects it). A mask blends the alpha encoding, PE(alpha) inside
and PE(1) outside, as in the paper; the output is then also blended with the input through the
same (feathered) mask so that pixels outside it are untouched (``composite=False`` turns that off).
"""

from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from motionmag.errors import MotionmagError
from motionmag.methods.base import FPS, REQUIRED, Magnifier, MethodSpec, Option, mode_option
from motionmag.models.flowmag import FlowMagGenerator, GeneratorConfig
from motionmag.checkpoint import read_checkpoint

# how the original release was trained (docs/flowmag.md#the-original-training); used for its checkpoints
_ORIGINAL_TRAINING = dict(flow_preset="train", alpha_low=1.0, alpha_high=16.0, weight_mag=1.0, weight_color=10.0, crop=512)


def load_flowmag(path: str | Path) -> tuple[FlowMagGenerator, dict]:
    """A generator from an exported model (``kind: flowmag``), a training state
    (``flowmag-train``) or the original release (``raft_chkpt_00140.pth``, DataParallel keys).
    Returns the generator (eval mode, on the CPU) and how it was trained."""
    payload = read_checkpoint(path)
    kind = payload.get("kind")
    if kind == "flowmag":
        config, state, training = payload["generator"], payload["state_dict"], payload["training"]
    elif kind == "flowmag-train":
        task = payload["config"]["task"]
        config, state = task["model"], payload["model"]
        training = {**{k: task["train"][k] for k in ("flow", "flow_preset", "alpha_low", "alpha_high", "weight_mag", "weight_color")},
                    "crop": task["data"]["crop"]}
    elif kind is None and isinstance(payload.get("state_dict"), dict) and any(
            k.removeprefix("module.").startswith("generator.") for k in payload["state_dict"]):
        keys = payload["state_dict"]  # DataParallel's "module." prefix, or none (a re-saved file)
        state = {k.removeprefix("module."): v for k, v in keys.items() if k.removeprefix("module.").startswith("generator.")}
        uses_raft = any(".fnet." in k for k in keys)  # RAFT's feature encoder rides along in the file
        config = GeneratorConfig().to_dict()
        training = dict(_ORIGINAL_TRAINING, flow="raft-things" if uses_raft else "arflow-kitti")
    else:
        raise MotionmagError(f"{path}: a {kind or 'unknown'!r} checkpoint, not a FlowMag model (kind 'flowmag')")
    try:
        generator = FlowMagGenerator(GeneratorConfig(**config))
        generator.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as err:
        raise MotionmagError(f"{path}: weights do not fit the FlowMag generator ({str(err).splitlines()[0][:160]})") from None
    return generator.eval(), training


def fuse_batchnorm(generator: FlowMagGenerator) -> FlowMagGenerator:
    """An inference copy with every BatchNorm folded into the conv before it (eval statistics):
    the same function in one pass over memory fewer per layer."""
    fused = copy.deepcopy(generator).eval()
    for module in fused.modules():
        if isinstance(module, nn.Sequential):
            layers = list(module)
            for i in range(len(layers) - 1):
                if isinstance(layers[i], nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d):
                    module[i] = nn.utils.fusion.fuse_conv_bn_eval(layers[i], layers[i + 1])
                    module[i + 1] = nn.Identity()
    return fused


def alpha_passes(alpha: float, alpha_high: float) -> tuple[int, float]:
    """(passes, alpha per pass): one pass up to ``alpha_high`` inclusive, else the fewest equal ones."""
    if alpha_high <= 1:
        raise MotionmagError(f"the model's trained alpha range must reach above 1, got {alpha_high:g}")
    if alpha < 1:
        raise MotionmagError(f"flowmag magnifies by alpha >= 1 (it was trained on [1, {alpha_high:g}]), got {alpha:g}")
    passes = 1 if alpha <= alpha_high else math.ceil(math.log(alpha) / math.log(alpha_high) - 1e-9)
    return passes, alpha ** (1.0 / passes)


class FlowMagMagnifier(Magnifier):
    """FlowMag's generator as a :class:`Magnifier` (alpha = output motion / input motion vs frame 0).

    checkpoint: a ``model.pt`` from training, a training state, or an original release file.
    batch_size: frames per forward pass. amp: bf16 on CUDA. tta_*: test-time adaptation settings
    (see :meth:`adapt`). fps and mode are accepted for a uniform interface (static only).
    """

    spec = MethodSpec("flowmag", (
        Option("checkpoint", REQUIRED, Path, "the trained model: a model.pt from `motionmag train flowmag`, a training state, "
               "or an original release file (raft_chkpt_00140.pth)", flag=True),
        Option("batch_size", 4, int, "frames per forward pass", minimum=1, flag=True),
        Option("amp", True, bool, "bf16 on CUDA"),
        Option("composite", True, bool, "blend the output with the input through the mask"),
        Option("tta_steps", 0, int, "test-time adaptation steps on the video first; 0 turns it off", minimum=0, flag=True),
        Option("tta_batch", 8, int, "pairs per adaptation step", minimum=1, flag=True),
        Option("tta_lr", 1e-4, float, "the adaptation's learning rate (Adam)"),
        Option("tta_crop", 512, int, "the adaptation's crop size (px)"),
        Option("tta_frames", 64, int, "frames the adaptation draws its pairs from (frame 0 and a sample of the rest)"),
        Option("seed", 0, int, "the adaptation's seed"),
        mode_option("static"),
        FPS,
        Option("weights_manifest", None, Path, "the weights manifest the adaptation's flow network comes from",
               default_text="$MOTIONMAG_WEIGHTS_MANIFEST or config/weights.yaml"),
        Option("weights_dir", None, Path, "where the manifest's weights are kept", default_text="$MOTIONMAG_WEIGHTS_DIR or resources/weights"),
        Option("progress", False, bool, "a progress bar during the adaptation"),
    ), demo_weights="flowmag-demo")

    def __init__(self, checkpoint: str | Path, batch_size: int = 4, amp: bool = True, composite: bool = True,
                 tta_steps: int = 0, tta_batch: int = 8, tta_lr: float = 1e-4, tta_crop: int = 512,
                 tta_frames: int = 64, seed: int = 0, mode: str = "static", fps: float | None = None,
                 device: str | torch.device = "cpu", weights_manifest=None, weights_dir=None, progress: bool = False):
        super().__init__(device)
        if mode not in self.spec.modes:
            raise MotionmagError(f"flowmag magnifies against frame 0 (mode static), not {mode!r}")
        if batch_size < 1:
            raise MotionmagError(f"batch_size must be >= 1, got {batch_size}")
        self.generator, self.training = load_flowmag(checkpoint)
        self.checkpoint = Path(checkpoint)
        self.batch_size, self.amp, self.composite = batch_size, amp, composite
        self.tta = dict(steps=tta_steps, batch=tta_batch, lr=tta_lr, crop=tta_crop, frames=tta_frames)
        self.seed, self.progress = seed, progress
        self.weights = (weights_manifest, weights_dir)
        self._prepare()

    def validate_alpha(self, alpha: float) -> float:
        """Also: at least 1 (it was trained to magnify, not attenuate)."""
        alpha = super().validate_alpha(alpha)
        alpha_passes(alpha, self.training["alpha_high"])
        return alpha

    def _prepare(self) -> None:
        self.generator.to(self.device)
        # channels-last: oneDNN's and cuDNN's faster convolution layout
        self._inference = fuse_batchnorm(self.generator).to(memory_format=torch.channels_last)

    def _run(self, frame0: torch.Tensor, frames: torch.Tensor, passes: int, alpha: float, mask) -> torch.Tensor:
        use_amp = self.amp and self.device.type == "cuda"
        frame0 = frame0.contiguous(memory_format=torch.channels_last)
        out = frames.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            for _ in range(passes):
                out = self._inference(frame0, out, alpha, mask)
        return out.float()

    def _magnify_tensors(self, frames: Iterator[torch.Tensor], alpha: float, mask=None):
        passes, per_pass = alpha_passes(alpha, self.training["alpha_high"])
        frame0 = next(frames)
        yield frame0, frame0  # the reference is its own magnification
        batch: list[torch.Tensor] = []

        def flush():
            out = self._run(frame0, torch.cat(batch), passes, per_pass, mask)
            pairs = list(zip(batch, out.split(1)))
            batch.clear()
            return pairs

        for frame in frames:
            batch.append(frame)
            if len(batch) == self.batch_size:
                yield from flush()
        if batch:
            yield from flush()

    def adapt(self, frames: Iterable[np.ndarray], steps: int | None = None) -> list[float]:
        """Test-time adaptation on this video (docs/flowmag.md#the-original-test-time-adaptation):
        the training loss on pairs (frame 0, frame k) of the video, with TTA augmentations, Adam at
        ``tta_lr``; alpha drawn log-uniformly as in training. Keeps a bounded reservoir of
        ``tta_frames`` frames (frame 0 always), so memory does not grow with the video. Returns the
        loss per step."""
        from motionmag.data.augment import apply_seeded, to_pair_tensor, tta_transform
        from motionmag.flow import flow_spec, get_flow_model
        from motionmag.flow.weights import WeightsStore
        from motionmag.losses import FlowMagLoss
        from motionmag.seeding import alpha_log_uniform, derive_seed

        steps = self.tta["steps"] if steps is None else steps
        if steps <= 0:
            return []
        pool = _reservoir(frames, self.tta["frames"], self.seed)
        h, w = pool[0].shape[:2]
        crop = min(self.tta["crop"], h, w)
        if crop < 2 * self.generator.multiple:  # BatchNorm needs more than one value at the bottleneck
            raise MotionmagError(f"test-time adaptation needs frames of at least {2 * self.generator.multiple} px, got {w}x{h}")
        name = self.training["flow"]
        store = WeightsStore(*self.weights) if flow_spec(name).needs_weights else None
        flow = get_flow_model(name, device=self.device, preset=self.training.get("flow_preset", "train"),
                              amp=self.amp, store=store)
        loss_fn = FlowMagLoss(flow, self.training["weight_mag"], self.training["weight_color"])
        transform = tta_transform(crop)
        model = self.generator.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=self.tta["lr"])
        use_amp = self.amp and self.device.type == "cuda"
        pick = random.Random(derive_seed(self.seed, 4))
        losses = []
        with torch.enable_grad():
            for step in tqdm(range(steps), desc="test-time adaptation", unit="step", disable=not self.progress):
                batch = torch.stack([
                    apply_seeded(transform, to_pair_tensor(pool[0], pool[pick.randrange(len(pool))]), derive_seed(self.seed, 5, step, j))
                    for j in range(self.tta["batch"])
                ]).to(self.device)
                alpha = alpha_log_uniform(len(batch), self.training["alpha_low"], self.training["alpha_high"],
                                          torch.Generator().manual_seed(derive_seed(self.seed, 6, step))).to(self.device)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                    loss = loss_fn(batch[:, 0], batch[:, 1], model(batch[:, 0], batch[:, 1], alpha), alpha)["loss"]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
        self.generator.eval()
        self._prepare()
        return losses


def _reservoir(frames: Iterable[np.ndarray], size: int, seed: int) -> list[np.ndarray]:
    """Frame 0 plus a uniform sample of at most ``size - 1`` of the others (one pass, bounded memory)."""
    rng = random.Random(seed)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise MotionmagError("test-time adaptation needs a video with frames")
    kept: list[np.ndarray] = []
    for n, frame in enumerate(frames):
        if len(kept) < size - 1:
            kept.append(frame)
        else:
            j = rng.randrange(n + 1)
            if j < size - 1:
                kept[j] = frame
    return [first, *kept] if kept else [first, first]
