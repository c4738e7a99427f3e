"""Pretrained flow weights: the manifest (config/weights.yaml), verified files, strict loading.

Files live in ``resources/weights/`` (or ``$MOTIONMAG_WEIGHTS_DIR``) under the manifest's file
names; the manifest is ``config/weights.yaml`` (or ``$MOTIONMAG_WEIGHTS_MANIFEST``), read and
stored by motionmag.resources as the datasets' manifest is. A file is
checked against its sha256 before it is loaded, and a checkpoint must fill every parameter of
the model. The original FlowMag loads with ``strict=False``; its released weights do load there,
because it wraps the model in ``nn.DataParallel`` first so the ``module.`` keys match, but
``strict=False`` would load nothing, without an error, into a model whose keys do not match
(docs/flowmag.md#the-original-checkpoints). Here a mismatch is an error.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from motionmag.errors import MotionmagError
from motionmag.io.download import digest_matches
from motionmag.resources import BUNDLED_DIR, WEIGHTS, ManifestEntry, VerifiedStore, read_manifest

FORMATS = WEIGHTS.formats
# one entry type for every manifest (motionmag.resources); bundled weights ship in BUNDLED_DIR
WeightEntry = ManifestEntry


def load_manifest(path: str | Path) -> dict[str, WeightEntry]:
    """The weights manifest at ``path``, every entry checked (one-line errors)."""
    return read_manifest(path, WEIGHTS)


class WeightsStore(VerifiedStore):
    """config/weights.yaml plus the folder its files go in; unpublished digests pinned in FILE.sha256."""

    kind = WEIGHTS

    def _missing(self, entry: WeightEntry, path: Path) -> str:
        hint = f"`motionmag flow fetch {entry.name}`"
        if self.root.resolve() == WEIGHTS.dir:
            hint += f" (or `snakemake --cores 1 resources/weights/{entry.file}`)"
        return f"weights for {entry.name} are missing: {entry.file} goes in {self.root}/; fetch it with {hint}"


def read_checkpoint(path: str | Path) -> dict:
    """``torch.load(weights_only=True)`` on the CPU, with a one-line error for anything unreadable."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for damaged files
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise MotionmagError(f"{path}: not a readable PyTorch checkpoint ({reason})") from None
    if not isinstance(checkpoint, dict):
        raise MotionmagError(f"{path}: expected a dict of tensors, got {type(checkpoint).__name__}")
    return checkpoint


def unwrap_state_dict(checkpoint: dict, *wrappers: str) -> dict[str, torch.Tensor]:
    """The tensors inside ``checkpoint[wrapper]`` for the first wrapper present, with any
    ``module.`` prefix (from ``nn.DataParallel``) removed."""
    for wrapper in wrappers:
        if isinstance(checkpoint.get(wrapper), dict):
            checkpoint = checkpoint[wrapper]
            break
    return {key.removeprefix("module."): value for key, value in checkpoint.items() if torch.is_tensor(value)}


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str | Path) -> None:
    """Load every parameter and buffer of ``module`` from ``state``, or explain in one line why not."""
    expected = module.state_dict()
    matched = set(expected) & set(state)
    if not matched:
        raise MotionmagError(
            f"{source}: loads no parameter of {type(module).__name__} (a checkpoint for another model?)"
        )
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        detail = []
        if missing:
            detail.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            detail.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        raise MotionmagError(f"{source}: does not fit {type(module).__name__}: {'; '.join(detail)}")
    wrong = [key for key in matched if expected[key].shape != state[key].shape]
    if wrong:
        key = sorted(wrong)[0]
        raise MotionmagError(
            f"{source}: {len(wrong)} tensors have the wrong shape, e.g. {key} "
            f"{tuple(state[key].shape)} instead of {tuple(expected[key].shape)}"
        )
    module.load_state_dict(state, strict=True)


__all__ = [
    "BUNDLED_DIR",
    "FORMATS",
    "WeightEntry",
    "WeightsStore",
    "digest_matches",
    "load_manifest",
    "load_strict",
    "read_checkpoint",
    "unwrap_state_dict",
]
