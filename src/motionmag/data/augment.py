"""FlowMag's augmentations, applied to both frames of a pair at once
(docs/flowmag.md#the-original-augmentations).

Every transform takes a (2, 3, H, W) float tensor (frame 0, frame t) and draws its random
parameters once, so both frames get the same crop, flip, rotation and colour change.
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2


PAPER_COLOR_JITTER = (0.5, 0.5, 0.5, 0.3)  # brightness, contrast, saturation, hue


def train_transform(crop: int, aug: bool = True, rotation: float = 15.0,
                    color_jitter: tuple[float, float, float, float] = PAPER_COLOR_JITTER) -> v2.Transform:
    """Training: RandomResizedCrop(scale 0.7-1), flips, rotation up to ``rotation`` degrees (zero
    corners), colour jitter; without ``aug``, the evaluation crop. Defaults are the paper's."""
    if not aug:
        return eval_transform(crop)
    brightness, contrast, saturation, hue = color_jitter
    return v2.Compose([
        v2.RandomResizedCrop(crop, scale=(0.7, 1.0), antialias=True),
        v2.RandomHorizontalFlip(0.5),
        v2.RandomVerticalFlip(0.5),
        v2.RandomRotation(rotation),
        v2.ColorJitter(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue),
    ])


def eval_transform(crop: int) -> v2.Transform:
    """Validation and test: short side to ``crop``, then the centre ``crop`` x ``crop``."""
    return v2.Compose([v2.Resize(crop, antialias=True), v2.CenterCrop(crop)])


class AnisotropicRescale(v2.Transform):
    """Scale each axis independently by factor**U(-1, 1) (FlowMag's test-time adaptation)."""

    def __init__(self, factor: float = 1.1):
        super().__init__()
        self.factor = factor

    def make_params(self, flat_inputs):
        return dict(sy=float(self.factor ** (2 * torch.rand(()) - 1)), sx=float(self.factor ** (2 * torch.rand(()) - 1)))

    def transform(self, inpt, params):
        h, w = inpt.shape[-2:]
        return v2.functional.resize(inpt, [max(1, round(h * params["sy"])), max(1, round(w * params["sx"]))], antialias=True)


def tta_transform(crop: int) -> v2.Transform:
    """Test-time adaptation: rotation up to 5 degrees, anisotropic rescale by 1.1**U(-1,1),
    zero-padding up to ``crop``, a random ``crop`` x ``crop`` window, colour jitter."""
    return v2.Compose([
        v2.RandomRotation(5),
        AnisotropicRescale(1.1),
        v2.RandomCrop(crop, pad_if_needed=True),
        v2.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.3),
    ])


def apply_seeded(transform: v2.Transform, pair: torch.Tensor, seed: int) -> torch.Tensor:
    """Run ``transform`` with its randomness drawn from ``seed`` alone (not the global state)."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # the CPU generator only, restored on exit
        return transform(pair)


def to_pair_tensor(frame_a, frame_b) -> torch.Tensor:
    """Two (H, W, 3) uint8 arrays -> (2, 3, H, W) float32 in [0, 1]."""
    pair = torch.stack([torch.from_numpy(frame_a), torch.from_numpy(frame_b)])
    return pair.permute(0, 3, 1, 2).float().div_(255.0)
