"""What the HDF5 sample files share: random access whose handle opens lazily in each process.

h5py handles do not survive fork, so a reader object is created in the main process, sent to
DataLoader workers, and each opens its own handle on first use.
"""

from __future__ import annotations

import hashlib
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
