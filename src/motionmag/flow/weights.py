"""Pretrained flow weights: the manifest (config/weights.yaml), verified files, strict loading.

Files live in ``resources/weights/`` (or ``$MOTIONMAG_WEIGHTS_DIR``) under the manifest's file
names; the manifest is ``config/weights.yaml`` (or ``$MOTIONMAG_WEIGHTS_MANIFEST``). A file is
checked against its sha256 before it is loaded, and a checkpoint must fill every parameter of
the model. The original FlowMag loads with ``strict=False``; its released weights do load there,
because it wraps the model in ``nn.DataParallel`` first so the ``module.`` keys match, but
``strict=False`` would load nothing, without an error, into a model whose keys do not match
(docs/flowmag.md#the-original-checkpoints). Here a mismatch is an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from torch import nn

from motionmag.errors import MotionmagError
from motionmag.io.download import digest_matches, fetch, sha256sum, verify

REPO_ROOT = Path(__file__).resolve().parents[3]
# "flowmag": the FlowMag authors' released generator checkpoints (raft_chkpt_00140.pth, ...)
# "motionmag": a model.pt exported by this project's own trainer (the released demo weights)
FORMATS = ("torchvision", "princeton-raft", "ptlflow", "gmflow", "arflow", "flowmag", "motionmag")
_FIELDS = ("file", "url", "sha256", "format", "source", "licence")
# Weights made by this project ship inside the repository (bundled: true), in resources/release/;
# their entries say how they were made (recipe) and how long that took (training_time).
BUNDLED_DIR = REPO_ROOT / "resources" / "release"
_OPTIONAL = ("size", "notes", "bundled", "recipe", "training_time")


@dataclass(frozen=True)
class WeightEntry:
    name: str
    file: str
    url: str
    sha256: str | None  # full digest or a >= 8-digit prefix; None: none published (pinned on first fetch)
    format: str
    source: str
    licence: str
    size: int | None = None
    bundled: bool = False


def _parse_entry(name: str, raw: dict, manifest: Path, formats: tuple[str, ...] = FORMATS) -> WeightEntry:
    where = f"{manifest}: {name}"
    if not isinstance(raw, dict):
        raise MotionmagError(f"{where}: expected a mapping with {', '.join(_FIELDS)}")
    bundled = raw.get("bundled", False) is True
    missing = [key for key in _FIELDS if key not in raw and not (bundled and key == "url")]
    if missing:
        raise MotionmagError(f"{where}: missing {', '.join(missing)}")
    if bundled and not raw["sha256"]:
        raise MotionmagError(f"{where}: a bundled file needs its full sha256")
    unknown = sorted(set(raw) - set(_FIELDS) - set(_OPTIONAL))
    if unknown:
        raise MotionmagError(f"{where}: unknown field {', '.join(unknown)}")
    sha = raw["sha256"]
    if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{8,64}", str(sha)):
        raise MotionmagError(f"{where}: sha256 must be 8 to 64 hex digits or null, got {sha!r}")
    if raw["format"] not in formats:
        raise MotionmagError(f"{where}: format {raw['format']!r} is not one of {', '.join(formats)}")
    if "/" in raw["file"] or raw["file"].startswith("."):
        raise MotionmagError(f"{where}: file must be a plain file name, got {raw['file']!r}")
    return WeightEntry(
        name, raw["file"], raw.get("url") or "", str(sha) if sha else None, raw["format"], raw["source"],
        raw["licence"], raw.get("size"), bundled,
    )


def load_manifest(path: str | Path, formats: tuple[str, ...] = FORMATS, what: str = "weights manifest") -> dict[str, WeightEntry]:
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"{what} {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise MotionmagError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise MotionmagError(f"{path}: expected a mapping of model name -> checkpoint")
    return {name: _parse_entry(name, entry, path, formats) for name, entry in raw.items()}


class WeightsStore:
    """The manifest plus the folder its files go in (subclasses: other kinds of verified download)."""

    formats = FORMATS
    what = "weights manifest"
    default_manifest = ("MOTIONMAG_WEIGHTS_MANIFEST", REPO_ROOT / "config" / "weights.yaml")
    default_root = ("MOTIONMAG_WEIGHTS_DIR", REPO_ROOT / "resources" / "weights")

    def __init__(self, manifest: str | Path | None = None, root: str | Path | None = None):
        self.manifest = Path(manifest or os.environ.get(self.default_manifest[0]) or self.default_manifest[1])
        self.root = Path(root or os.environ.get(self.default_root[0]) or self.default_root[1])
        self.entries = load_manifest(self.manifest, self.formats, self.what)

    def entry(self, name: str) -> WeightEntry:
        if name not in self.entries:
            raise MotionmagError(f"{self.manifest} lists no checkpoint for {name!r}")
        return self.entries[name]

    def path(self, name: str) -> Path:
        entry = self.entry(name)
        return (BUNDLED_DIR if entry.bundled else self.root) / entry.file

    def present(self, name: str) -> bool:
        return self.path(name).is_file()

    def _pinned(self, path: Path) -> Path:
        return path.with_name(path.name + ".sha256")

    def expected_sha256(self, name: str) -> str | None:
        """The manifest's digest, else the one recorded when an unpublished file was first fetched."""
        entry, path = self.entry(name), self.path(name)
        if entry.sha256:
            return entry.sha256
        pinned = self._pinned(path)
        return pinned.read_text().split()[0] if pinned.is_file() else None

    def require(self, name: str) -> Path:
        """The verified local file, or a one-line error naming the file, its place and the fetch command."""
        path = self.path(name)
        if not path.is_file() and self.entry(name).bundled:
            raise MotionmagError(f"{path}: the bundled weights for {name} are missing (a damaged checkout?)")
        if not path.is_file():
            hint = f"`motionmag flow fetch {name}`"
            if self.root.resolve() == REPO_ROOT / "resources" / "weights":
                hint += f" (or `snakemake --cores 1 resources/weights/{path.name}`)"
            raise MotionmagError(
                f"weights for {name} are missing: {self.entry(name).file} goes in {self.root}/; fetch it with {hint}"
            )
        verify(path, self.expected_sha256(name), self.entry(name).size)
        return path

    def fetch(self, name: str, progress: bool = True) -> Path:
        entry, path = self.entry(name), self.path(name)
        if entry.bundled:  # ships with the code: nothing to download, only to verify
            return self.require(name)
        if not entry.sha256 and not path.exists():
            self._pinned(path).unlink(missing_ok=True)  # the file was deleted: pin the new one
        fetch(entry.url, path, self.expected_sha256(name), entry.size, progress=progress)
        if not self.expected_sha256(name):  # nothing published: pin what arrived, so later damage shows
            self._pinned(path).write_text(f"{sha256sum(path)}  {path.name}\n")
        return path


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
    "FORMATS",
    "WeightEntry",
    "WeightsStore",
    "digest_matches",
    "load_manifest",
    "load_strict",
    "read_checkpoint",
    "unwrap_state_dict",
]
