"""Checkpoints: written atomically, read with ``weights_only=True``, typed by a ``kind`` field.

Kinds: ``flowmag`` (an exported generator, what inference loads), ``flowmag-train`` (the full
training state: model, optimizer, step, config). Loading checks the kind so that handing one model's
file to another fails with one line instead of a strict-load traceback, or a ``strict=False`` load
that loads nothing without an error (the original FlowMag loads with ``strict=False``, which works
there only because it wraps the model in ``nn.DataParallel`` first, so the ``module.`` keys match;
docs/flowmag.md#the-original-checkpoints).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from motionmag.errors import MotionmagError


def save_checkpoint(payload: dict, path: str | Path) -> None:
    """torch.save to a temporary file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and format errors all mean "not a usable checkpoint"
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MotionmagError(f"{path}: not a readable torch checkpoint ({reason[:160]})") from None
    if not isinstance(payload, dict):
        raise MotionmagError(f"{path}: not a checkpoint dictionary")
    return payload


def load_checkpoint(path: str | Path, kinds: tuple[str, ...]) -> dict:
    """Read ``path`` and check that its kind is one of ``kinds``."""
    payload = read_checkpoint(path)
    kind = payload.get("kind", "unknown")
    if kind not in kinds:
        raise MotionmagError(f"{path}: a {kind!r} checkpoint, expected {' or '.join(repr(k) for k in kinds)}")
    return payload
