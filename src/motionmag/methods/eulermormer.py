"""EulerMormer inference (Wang et al., AAAI 2024): static and dynamic modes (docs/newer_methods.md).

    magnifier = EulerMormerMagnifier("eulermormer")                     # the authors' weights, fetched
    magnifier = EulerMormerMagnifier("magnet_epoch99_loss5.38e-02.pth", mode="dynamic")
    for frame in magnifier.magnify(open_video("clip.mp4"), alpha=20): ...

alpha is the total factor (output motion / input motion), as the network takes it: its manipulator
scales the filtered shape difference by alpha - 1, so alpha 1 gives back each frame as the
autoencoder renders it. The original has no temporal mode (its test_video.py runs the static mode
only, at alpha 20), so none is offered here.
"""

from __future__ import annotations

from pathlib import Path

import torch

from motionmag.methods.base import MethodSpec, Option, mode_option
from motionmag.methods.network import BATCH_SIZE, COMPOSITE, NetworkMagnifier, checkpoint_option, resolve_checkpoint
from motionmag.models.eulermormer import EulerMormerNet, load_eulermormer_checkpoint


class EulerMormerMagnifier(NetworkMagnifier):
    """EulerMormer's network as a :class:`Magnifier`.

    checkpoint: the authors' ``magnet_epoch99_loss5.38e-02.pth`` (a state dict, ``module.``
    prefixes or not), or the weights name ``eulermormer``. mode: static or dynamic.
    batch_size: frames per forward pass (default 4 on CUDA, 1 on the CPU). amp: bf16 decoding on
    CUDA (the encoder and manipulator stay float32).
    """

    spec = MethodSpec("eulermormer", (
        checkpoint_option("the authors' magnet_epoch99_loss5.38e-02.pth or another state dict of the network", "eulermormer"),
        mode_option("static", "dynamic"),
        BATCH_SIZE,
        Option("amp", True, bool, "bf16 decoding on CUDA"),
        COMPOSITE,
    ), released_weights="eulermormer")

    def __init__(self, checkpoint: str | Path, mode: str = "static", batch_size: int | None = None, amp: bool = True,
                 composite: bool = True, device: str | torch.device = "cpu"):
        super().__init__(mode, batch_size, amp, composite, device=device)
        self.checkpoint = resolve_checkpoint(checkpoint, self.name, ("eulermormer",))
        self.net: EulerMormerNet = load_eulermormer_checkpoint(self.checkpoint).to(self.device)

    def _manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: float) -> torch.Tensor:
        return self.net.manipulate(shape_a, shape_b, alpha)


__all__ = ["EulerMormerMagnifier"]
