"""What the HDF5 sample files share: random access whose handle opens lazily in each process.

h5py handles do not survive fork, so a reader object is created in the main process, sent to
DataLoader workers, and each opens its own handle on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py

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
