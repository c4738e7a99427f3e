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

from collections import deque
from pathlib import Path
from typing import Iterator, Sequence

import torch

from motionmag.errors import MotionmagError
from motionmag.methods.base import Magnifier
from motionmag.models.oh2018 import OhMagNet
from motionmag.checkpoint import read_checkpoint

MODES = ("static", "dynamic", "temporal")


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


class Oh2018Magnifier(Magnifier):
    """Oh et al. 2018's network as a :class:`Magnifier` (alpha = output motion / input motion).

    checkpoint: a ``model.pt`` from ``motionmag train oh2018`` or a training state.
    mode: static, dynamic or temporal; filter, band, fps, taps, order: the temporal filter
    (see :func:`motionmag.methods.filters.make_filter`). reference: the shape the magnified band
    is added to in temporal mode, ``frame`` (each frame's own) or ``first``.
    batch_size: frames per forward pass (default 4 on CUDA, 1 on the CPU). amp: bf16 on CUDA.
    """

    name = "oh2018"

    def __init__(self, checkpoint: str | Path, mode: str = "static", filter: str = "iir",
                 band: Sequence[float] | None = None, fps: float | None = None, taps: int | None = None, order: int = 1,
                 reference: str = "frame", batch_size: int | None = None, amp: bool = True, composite: bool = True,
                 device: str | torch.device = "cpu"):
        super().__init__(device)
        if batch_size is None:  # on the CPU batches are no faster and double the peak memory
            batch_size = 4 if self.device.type == "cuda" else 1
        if mode not in MODES:
            raise MotionmagError(f"oh2018 has modes {', '.join(MODES)}, not {mode!r}")
        if reference not in ("frame", "first"):
            raise MotionmagError(f"reference is 'frame' or 'first', not {reference!r}")
        if batch_size < 1:
            raise MotionmagError(f"batch_size must be >= 1, got {batch_size}")
        self.mode, self.reference, self.batch_size, self.amp, self.composite = mode, reference, batch_size, amp, composite
        self.filter_settings = dict(kind=filter, band=band, fps=fps, taps=taps, order=order)
        if mode == "temporal":
            self.new_filter()  # fail on a bad band before any frame is read
        self.net, self.training = load_oh2018(checkpoint)
        self.net.to(self.device)
        self.checkpoint = Path(checkpoint)

    def new_filter(self):
        from motionmag.methods.filters import make_filter

        return make_filter(**self.filter_settings)

    def _autocast(self):
        """bf16 for the decoder on CUDA; the encoder and manipulator always run in float32."""
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.amp and self.device.type == "cuda")

    def _alpha(self, alpha: float) -> torch.Tensor:
        return torch.tensor(alpha, dtype=torch.float32, device=self.device)

    def _chunks(self, frames: Iterator[torch.Tensor]) -> Iterator[list[torch.Tensor]]:
        chunk: list[torch.Tensor] = []
        for frame in frames:
            chunk.append(frame)
            if len(chunk) == self.batch_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _magnify_tensors(self, frames: Iterator[torch.Tensor], alpha: float, mask=None):
        if self.mode == "temporal":
            yield from self._temporal(frames, alpha)
        else:
            yield from self._two_frame(frames, alpha)

    def _two_frame(self, frames, alpha: float):
        """static and dynamic: batches of frames against frame 0 or each one's predecessor."""
        net, previous = self.net, None
        for chunk in self._chunks(frames):
            batch = torch.cat(chunk)
            textures, shapes = net.encode(batch)  # float32: see motionmag.models.oh2018.full_precision
            if previous is None:
                previous = shapes[:1]  # frame 0 is paired with itself
            if self.mode == "static":
                shape_a = previous.expand_as(shapes)
            else:
                shape_a, previous = torch.cat([previous, shapes[:-1]]), shapes[-1:]
            manipulated = net.manipulator(shape_a, shapes, self._alpha(alpha))
            with self._autocast():
                out = net.decode(textures, manipulated, batch.shape[-2:])
            yield from zip(chunk, out.split(1))

    def _temporal(self, frames, alpha: float):
        """Shape maps through the temporal filter; frames wait (as their encodings) for its look-ahead."""
        net, temporal = self.net, self.new_filter()
        pending: deque[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = deque()  # (frame, texture, shape)
        first_shape = None

        def decode(ready: list[tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], list[torch.Tensor]]]):
            """[((frame, texture, shape), filtered shape), ...] -> [(frame, output), ...]"""
            inputs = [frame for (frame, _, _), _ in ready]
            textures = torch.cat([texture for (_, texture, _), _ in ready])
            shapes = torch.cat([shape for (_, _, shape), _ in ready])
            filtered = torch.cat([y[0] for _, y in ready])
            base = first_shape.expand_as(shapes) if self.reference == "first" else shapes
            manipulated = base + net.manipulator.delta(filtered, self._alpha(alpha))
            with self._autocast():
                out = net.decode(textures, manipulated, inputs[0].shape[-2:])
            return list(zip(inputs, out.split(1)))

        for chunk in self._chunks(frames):
            textures, shapes = net.encode(torch.cat(chunk))
            if first_shape is None:
                first_shape = shapes[:1]
            ready = []
            for i, frame in enumerate(chunk):
                pending.append((frame, textures[i : i + 1], shapes[i : i + 1]))
                filtered = temporal.step([shapes[i : i + 1]])
                if filtered is not None:
                    ready.append((pending.popleft(), filtered))
            if ready:
                yield from decode(ready)
        tail = [(pending.popleft(), filtered) for filtered in temporal.flush()]
        for start in range(0, len(tail), self.batch_size):
            yield from decode(tail[start : start + self.batch_size])
