"""STB-VMM inference (Lado-Roigé and Pérez, KBS 2023): static and dynamic modes (docs/newer_methods.md).

    magnifier = STBVMMMagnifier("stbvmm")                                # the authors' weights, fetched
    magnifier = STBVMMMagnifier("ckpt_e49.pth.tar", padding="black-centre")
    for frame in magnifier.magnify(open_video("clip.mp4"), alpha=20): ...

alpha is the total factor (output motion / input motion), as the network takes it: its manipulator
scales the feature difference by alpha - 1, so alpha 1 gives back each frame as the network renders
it. Frames are padded to a multiple of 64 (the 8 x 8 windows on 1/8-resolution features need it) and
the output is cropped back to the frame. The original has no temporal mode (run.py: static and
dynamic), so none is offered here. The network has no texture branch: the 192-channel features of
frame t are manipulated and decoded.
"""

from __future__ import annotations

from pathlib import Path

import torch

from motionmag.errors import MotionmagError
from motionmag.methods.base import MethodSpec, Option, mode_option
from motionmag.methods.network import BATCH_SIZE, COMPOSITE, NetworkMagnifier, checkpoint_option, resolve_checkpoint
from motionmag.models.stbvmm import STBVMMNet, load_stbvmm_checkpoint

PADDINGS = ("reflect", "black-centre")


class STBVMMMagnifier(NetworkMagnifier):
    """STB-VMM's network as a :class:`Magnifier`.

    checkpoint: the authors' ``ckpt_e49.pth.tar`` (or a state dict), or the weights name
    ``stbvmm``. mode: static or dynamic. padding: how frames are padded to a multiple of 64,
    ``reflect`` (bottom and right) or ``black-centre`` (as the original's magnify_video.sh;
    cropped back here either way). batch_size: frames per forward pass (default 4 on CUDA, 1 on the
    CPU). amp: bf16 decoding (the mixing stack and reconstruction) on CUDA.
    """

    spec = MethodSpec("stbvmm", (
        checkpoint_option("the authors' ckpt_e49.pth.tar (their train.py's dict) or a state dict", "stbvmm"),
        mode_option("static", "dynamic"),
        Option("padding", "reflect", str, "how frames are padded to a multiple of 64 (cropped back either way): reflect "
               "(bottom and right) or black-centre (as the original's magnify_video.sh)", choices=PADDINGS),
        BATCH_SIZE,
        Option("amp", True, bool, "bf16 decoding on CUDA"),
        COMPOSITE,
    ), released_weights="stbvmm")

    def __init__(self, checkpoint: str | Path, mode: str = "static", padding: str = "reflect", batch_size: int | None = None,
                 amp: bool = True, composite: bool = True, device: str | torch.device = "cpu"):
        if padding not in PADDINGS:
            raise MotionmagError(f"padding is {' or '.join(PADDINGS)}, not {padding!r}")
        super().__init__(mode, batch_size, amp, composite, device=device)
        self.checkpoint = resolve_checkpoint(checkpoint, self.name, ("stbvmm",))
        self.net: STBVMMNet = load_stbvmm_checkpoint(self.checkpoint, padding=padding).to(self.device)
        self.padding = padding

    def _encode(self, batch: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, self.net.encode(batch)  # no texture: the features carry everything

    def _manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: float) -> torch.Tensor:
        return self.net.manipulate(shape_a, shape_b, alpha)

    def _decode(self, texture: None, shape: torch.Tensor, size) -> torch.Tensor:
        return self.net.decode(shape, size)


__all__ = ["PADDINGS", "STBVMMMagnifier"]
