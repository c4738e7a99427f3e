"""What the encoder / manipulator / decoder networks share as magnifiers: Oh et al. 2018
(``oh2018``) and its successors (``axial``, ``eulermormer``, ``stbvmm``).

Each frame is encoded once into a texture (or nothing, for STB-VMM) and a shape representation;
a manipulator magnifies the difference of two shapes; the decoder renders the texture with the
magnified shape. The modes:

- static: every frame t against frame 0: decode(V_t, manipulate(M_0, M_t, alpha)); frame 0 goes
  through the network as the pair (X0, X0), as in the originals, so the whole output has the
  autoencoder's look.
- dynamic: against the previous frame (magnifies velocity, for large motions).
- temporal (where a method has it): the shapes are filtered over time, y = T(M)(t), and the frame
  is decoded as decode(V_t, M_ref + delta(y_t, alpha)), M_ref the frame's own shape or, with
  ``reference="first"``, frame 0's. Causal filters stream; fir keeps only its taps' worth of
  shapes and has (taps - 1) / 2 frames of look-ahead.

Frames go through in batches of ``batch_size``; the encoder and manipulator run in float32
(alpha scales sub-pixel differences, and bf16 rounding would be magnified), the decoder in bf16
under ``amp`` on CUDA. A subclass loads its network (``self.net``) and says how its pieces are
called: :meth:`_encode`, :meth:`_manipulate`, :meth:`_delta`, :meth:`_decode`.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Iterator

import torch

from motionmag.errors import MotionmagError
from motionmag.methods.base import REQUIRED, Magnifier, Option

# options these methods declare alike: the temporal mode's beyond the Eulerian ones (BAND, FPS,
# FILTER, TAPS), then the batch and the mask's blend
ORDER = Option("order", 1, int, "the Butterworth filter's order", minimum=1, modes=("temporal",))
REFERENCE = Option("reference", "frame", str, "the shape the magnified band is added to: each frame's own or frame 0's",
                   choices=("frame", "first"), modes=("temporal",))
BATCH_SIZE = Option("batch_size", None, int, "frames per forward pass", minimum=1, flag=True,
                    default_text="4 on CUDA, 1 on the CPU")
COMPOSITE = Option("composite", True, bool, "blend the output with the input through the mask")


def checkpoint_option(what: str, weights: str | None = None) -> Option:
    """The required ``checkpoint`` option (a flag of its own): ``what`` file it takes, and the
    weights-manifest entry it may name instead."""
    named = f", or the weights name {weights} (after `motionmag flow fetch {weights}`)" if weights else ""
    return Option("checkpoint", REQUIRED, Path, f"the trained model: {what}{named}", flag=True)


def resolve_checkpoint(checkpoint: str | Path, method: str, formats: tuple[str, ...]) -> Path:
    """A checkpoint file, or the verified file of a weights-manifest entry of one of ``formats``
    (``axial-mm``): a file of that name wins. A name not fetched yet, a name of other weights and
    a path that does not exist are each one line (:class:`MotionmagError`)."""
    path = Path(checkpoint)
    if path.is_file():
        return path
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    name = str(checkpoint)
    entry = store.entries.get(name)
    if entry is not None:
        if entry.format not in formats:
            raise MotionmagError(f"{name} in {store.manifest} holds {entry.format} weights, not {method}'s "
                                 f"(format {' or '.join(formats)})")
        return store.require(name)  # missing: names `motionmag flow fetch NAME`; present: sha256-checked
    names = [key for key, value in store.entries.items() if value.format in formats]
    listed = f"one of {method}'s weights names in {store.manifest} ({', '.join(names)})" if names else \
        f"a {method} weights name in {store.manifest}"
    raise MotionmagError(f"{checkpoint}: checkpoint not found (not a file, nor {listed})")


class NetworkMagnifier(Magnifier):
    """An encoder / manipulator / decoder network as a :class:`Magnifier` (alpha = output motion /
    input motion). ``mode``: static, dynamic or (where the method has it) temporal; ``reference``
    and ``filter_settings`` (for :func:`motionmag.methods.filters.make_filter`) are for temporal
    mode; ``batch_size``: frames per forward pass (default 4 on CUDA, 1 on the CPU, where batches
    are no faster and double the peak memory); ``amp``: bf16 decoding on CUDA."""

    net: torch.nn.Module

    def __init__(self, mode: str = "static", batch_size: int | None = None, amp: bool = True, composite: bool = True,
                 reference: str = "frame", filter_settings: dict | None = None, device: str | torch.device = "cpu"):
        super().__init__(device)
        if batch_size is None:
            batch_size = 4 if self.device.type == "cuda" else 1
        if mode not in self.spec.modes:
            raise MotionmagError(f"{self.name} has modes {', '.join(self.spec.modes)}, not {mode!r}")
        if reference not in ("frame", "first"):
            raise MotionmagError(f"reference is 'frame' or 'first', not {reference!r}")
        if batch_size < 1:
            raise MotionmagError(f"batch_size must be >= 1, got {batch_size}")
        self.mode, self.reference, self.batch_size, self.amp, self.composite = mode, reference, batch_size, amp, composite
        self.filter_settings = filter_settings or {}
        if mode == "temporal":
            self.new_filter()  # fail on a bad band before any frame is read

    def new_filter(self):
        from motionmag.methods.filters import make_filter

        return make_filter(**self.filter_settings)

    # -- the network's pieces: a subclass overrides what its network calls differently -------------
    def _encode(self, batch: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(B, 3, H, W) in [0, 1] -> texture (or None) and shape, each (B, ...)."""
        return self.net.encode(batch)

    def _manipulate(self, shape_a: torch.Tensor, shape_b: torch.Tensor, alpha: float) -> torch.Tensor:
        """B's shape with its motion from A magnified."""
        raise NotImplementedError

    def _delta(self, filtered: torch.Tensor, alpha: float) -> torch.Tensor:
        """The increment for a temporally filtered shape (temporal mode)."""
        raise NotImplementedError

    def _decode(self, texture: torch.Tensor | None, shape: torch.Tensor, size) -> torch.Tensor:
        """-> (B, 3, H, W) in [0, 1] (unclipped), cropped to ``size``."""
        return self.net.decode(texture, shape, size)

    # -- the modes -------------------------------------------------------------------------------
    def _autocast(self):
        """bf16 for the decoder on CUDA; the encoder and manipulator always run in float32."""
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.amp and self.device.type == "cuda")

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
        previous = None
        for chunk in self._chunks(frames):
            batch = torch.cat(chunk)
            textures, shapes = self._encode(batch)
            if previous is None:
                previous = shapes[:1]  # frame 0 is paired with itself
            if self.mode == "static":
                shape_a = previous.expand_as(shapes)
            else:
                shape_a, previous = torch.cat([previous, shapes[:-1]]), shapes[-1:]
            manipulated = self._manipulate(shape_a, shapes, alpha)
            with self._autocast():
                out = self._decode(textures, manipulated, batch.shape[-2:])
            yield from zip(chunk, out.split(1))

    def _temporal(self, frames, alpha: float):
        """Shapes through the temporal filter; frames wait (as their encodings) for its look-ahead."""
        temporal = self.new_filter()
        pending: deque[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]] = deque()  # (frame, texture, shape)
        first_shape = None

        def decode(ready):
            """[((frame, texture, shape), filtered shape), ...] -> [(frame, output), ...]"""
            inputs = [frame for (frame, _, _), _ in ready]
            textures = [texture for (_, texture, _), _ in ready]
            textures = None if textures[0] is None else torch.cat(textures)
            shapes = torch.cat([shape for (_, _, shape), _ in ready])
            filtered = torch.cat([y[0] for _, y in ready])
            base = first_shape.expand_as(shapes) if self.reference == "first" else shapes
            manipulated = base + self._delta(filtered, alpha)
            with self._autocast():
                out = self._decode(textures, manipulated, inputs[0].shape[-2:])
            return list(zip(inputs, out.split(1)))

        for chunk in self._chunks(frames):
            textures, shapes = self._encode(torch.cat(chunk))
            if first_shape is None:
                first_shape = shapes[:1]
            ready = []
            for i, frame in enumerate(chunk):
                texture = None if textures is None else textures[i : i + 1]
                pending.append((frame, texture, shapes[i : i + 1]))
                filtered = temporal.step([shapes[i : i + 1]])
                if filtered is not None:
                    ready.append((pending.popleft(), filtered))
            if ready:
                yield from decode(ready)
        tail = [(pending.popleft(), filtered) for filtered in temporal.flush()]
        for start in range(0, len(tail), self.batch_size):
            yield from decode(tail[start : start + self.batch_size])


__all__ = ["BATCH_SIZE", "COMPOSITE", "NetworkMagnifier", "ORDER", "REFERENCE", "checkpoint_option", "resolve_checkpoint"]
