"""Oh et al. 2018 inference: static, dynamic and temporal modes (docs/oh2018.md#the-original-inference).

    magnifier = Oh2018Magnifier("results/train/oh2018/demo/model.pt", mode="static")
    magnifier = Oh2018Magnifier(model, mode="temporal", filter="butter", band=(0.5, 3), fps=30)
    magnifier = Oh2018Magnifier(model, mode="temporal", filter="diff-iir", band=(0.04, 0.4))
    for frame in magnifier.magnify(open_video("clip.mp4"), alpha=20): ...

- static: every frame t against frame 0: decode(V_t, M_t + h((alpha - 1) g(M_t - M_0))).
- dynamic: against the previous frame (magnifies velocity, for large motions).
- temporal: the shape maps are filtered over time, y = T(M)(t), and the frame is decoded as
  decode(V_t, M_t + h((alpha - 1) g(y))) (the paper's Eq. 4). Causal filters (iir, diff-iir,
  butter) stream; fir keeps only its taps' worth of shape maps (the original holds the whole
  clip's: about 5 GB for 300 frames at 960x544) and is zero-phase with (taps - 1) / 2 frames of
  look-ahead. The original's fir decoded every frame on the *last* frame's shape (a stale loop
  variable); here each frame uses its own, or with ``reference="first"`` frame 0's, as the
  author-verified port does.

Every frame, frame 0 included, goes through the network (frame 0 as the pair (X0, X0)), as in
the original, so the whole output has the autoencoder's look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from motionmag.errors import MotionmagError
from motionmag.methods.base import BAND, FILTER, FPS, REQUIRED, TAPS, MethodSpec, Option, mode_option
from motionmag.methods.network import BATCH_SIZE, COMPOSITE, ORDER, REFERENCE, NetworkMagnifier
from motionmag.models.oh2018 import OhMagNet
from motionmag.checkpoint import read_checkpoint


def load_oh2018(path: str | Path) -> tuple[OhMagNet, dict]:
    """The network from an exported model (``kind: oh2018``) or a training state (``oh2018-train``).
    Returns it (eval mode, on the CPU) and how it was trained."""
    payload = read_checkpoint(path)
    kind = payload.get("kind")
    if kind not in ("oh2018", "oh2018-train"):
        raise MotionmagError(f"{path}: a {kind or 'unknown'!r} checkpoint, not an Oh 2018 model (kind 'oh2018')")
    net = OhMagNet()
    try:
        if kind == "oh2018":
            state, training = payload["state_dict"], payload.get("training", {})
        else:
            state, training = payload["model"], dict(payload["config"]["task"]["train"])
        net.load_state_dict(state, strict=True)
    except KeyError as err:
        raise MotionmagError(f"{path}: an incomplete {kind} checkpoint (no {err})") from None
    except (RuntimeError, TypeError, AttributeError) as err:
        raise MotionmagError(f"{path}: weights do not fit the Oh 2018 network ({str(err).splitlines()[0][:160]})") from None
    return net.eval(), training


class Oh2018Magnifier(NetworkMagnifier):
    """Oh et al. 2018's network as a :class:`Magnifier` (alpha = output motion / input motion).

    checkpoint: a ``model.pt`` from ``motionmag train oh2018`` or a training state.
    mode: static, dynamic or temporal; filter, band, fps, taps, order: the temporal filter
    (see :func:`motionmag.methods.filters.make_filter`). reference: the shape the magnified band
    is added to in temporal mode, ``frame`` (each frame's own) or ``first``.
    batch_size: frames per forward pass (default 4 on CUDA, 1 on the CPU). amp: bf16 on CUDA.
    The modes themselves are :class:`~motionmag.methods.network.NetworkMagnifier`'s.
    """

    spec = MethodSpec("oh2018", (
        Option("checkpoint", REQUIRED, Path, "the trained model: a model.pt from `motionmag train oh2018` or a training state", flag=True),
        mode_option("static", "dynamic", "temporal"),
        FILTER, BAND, FPS, TAPS, ORDER, REFERENCE, BATCH_SIZE,
        Option("amp", True, bool, "bf16 decoding on CUDA"),
        COMPOSITE,
    ), demo_weights="oh2018-demo")

    def __init__(self, checkpoint: str | Path, mode: str = "static", filter: str = "iir",
                 band: Sequence[float] | None = None, fps: float | None = None, taps: int | None = None, order: int = 1,
                 reference: str = "frame", batch_size: int | None = None, amp: bool = True, composite: bool = True,
                 device: str | torch.device = "cpu"):
        super().__init__(mode, batch_size, amp, composite, reference,
                         dict(kind=filter, band=band, fps=fps, taps=taps, order=order), device)
        self.net, self.training = load_oh2018(checkpoint)
        self.net.to(self.device)
        self.checkpoint = Path(checkpoint)

    def _alpha(self, alpha: float) -> torch.Tensor:
        return torch.tensor(alpha, dtype=torch.float32, device=self.device)

    def _manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: float) -> torch.Tensor:
        return self.net.manipulator(shape_a, shape_b, self._alpha(alpha))  # float32: see models.oh2018.full_precision

    def _delta(self, filtered: torch.Tensor, alpha: float) -> torch.Tensor:
        return self.net.manipulator.delta(filtered, self._alpha(alpha))
