"""What the HDF5 sample files share: random access whose handle opens lazily in each process.

h5py handles do not survive fork, so a reader object is created in the main process, sent to
DataLoader workers, and each opens its own handle on first use.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

from motionmag.errors import MotionmagError


class LazyH5:
    """Subclasses set ``what`` (for messages) and ``_check(file) -> number of records``, which
    raises MotionmagError when the file is not of their layout."""

    what = "HDF5 file"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise MotionmagError(f"{self.path}: {self.what} not found")
        try:
            with h5py.File(self.path, "r") as f:
                self._len = self._check(f)
        except OSError as err:
            raise MotionmagError(f"{self.path}: not a readable HDF5 file ({err})") from None
        self._file = None
        self._pid = None

    def _check(self, f: h5py.File) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._len

    def _handle(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid():
            self._file, self._pid = h5py.File(self.path, "r"), os.getpid()
        return self._file

    def __getstate__(self):
        return {**self.__dict__, "_file": None, "_pid": None}


@contextmanager
def atomic_h5(path: str | Path) -> Iterator[h5py.File]:
    """An HDF5 file written under a temporary name and renamed over ``path`` only once the block
    completes: an interrupted or failed write never leaves a file that looks finished."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def growing_vlen(f: h5py.File, name: str) -> h5py.Dataset:
    """An empty, resizable dataset of variable-length byte strings (encoded frames)."""
    return f.create_dataset(name, (0,), dtype=h5py.vlen_dtype(np.uint8), maxshape=(None,), chunks=(64,))


def fingerprint(path: str | Path, block: int = 1 << 20) -> str:
    """A cheap content fingerprint of a (large) file: its size and the sha256 of its first and last
    MiB. Survives copying (unlike a modification time); tells a training run its data changed."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        digest.update(f.read(block))
        f.seek(max(0, size - block))
        digest.update(f.read(block))
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ShardedSet:
    """A set of samples kept in HDF5 shards, as one map-style Dataset: a manifest (``.json``,
    written by ``write_shard_manifest``) or a single shard file. Subclasses set ``kind`` (the
    manifest's kind), ``count_key`` (its per-shard count field), ``what`` and ``shard_type``."""

    kind = ""
    count_key = "samples"
    what = "set"
    shard_type: type = LazyH5

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.suffix == ".json":
            self.manifest = self._read_manifest()
            self.shards = []
            for entry in self.manifest["shards"]:
                shard = self.shard_type(self.path.parent / entry["path"])
                if len(shard) != entry[self.count_key]:
                    raise MotionmagError(f"{shard.path}: {len(shard)} {self.count_key}, the manifest says "
                                         f"{entry[self.count_key]} (regenerate it)")
                self.shards.append(shard)
        else:
            self.manifest, self.shards = None, [self.shard_type(self.path)]
        self.starts = np.cumsum([0] + [len(s) for s in self.shards]).tolist()

    def _read_manifest(self) -> dict:
        if not self.path.is_file():
            raise MotionmagError(f"{self.path}: {self.what} manifest not found")
        try:
            manifest = json.loads(self.path.read_text())
        except json.JSONDecodeError:
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("kind") != self.kind:
            raise MotionmagError(f"{self.path}: not a {self.what} manifest (kind {self.kind})")
        return manifest

    @property
    def fingerprint(self) -> str:
        """Identifies the content: the shards' sha256s from the manifest, or the file's fingerprint."""
        if self.manifest is None:
            return fingerprint(self.path)
        return hashlib.sha256(" ".join(e["sha256"] for e in self.manifest["shards"]).encode()).hexdigest()

    def __len__(self) -> int:
        return self.starts[-1]

    def _locate(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} of {len(self)}")
        k = bisect.bisect_right(self.starts, index) - 1
        return self.shards[k], index - self.starts[k]

    def __getitem__(self, index: int):
        shard, local = self._locate(int(index))
        return shard[local]


def write_shard_manifest(path: str | Path, shards: list[str | Path], info: dict, kind: str, count_key: str,
                         shard_type: type) -> dict:
    """Describe a sharded set: each shard's path (relative to the manifest), count, bytes and
    sha256, plus how it was made (under "made"). Written atomically."""
    path = Path(path)
    entries = [{"path": os.path.relpath(shard, path.parent), count_key: len(shard_type(shard)),
                "bytes": Path(shard).stat().st_size, "sha256": file_sha256(shard)} for shard in shards]
    manifest = {"kind": kind, "version": 1, count_key: sum(e[count_key] for e in entries),
                "bytes": sum(e["bytes"] for e in entries), "made": info, "shards": entries}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, path)
    return manifest
