"""Dataset archives: the manifest (config/datasets.yaml), its lock file, and how each file is got.

An entry says where a file comes from and how to check it:

    file      name under resources/datasets/ (or $MOTIONMAG_DATASETS_DIR)
    urls      mirrors, tried in order (``url`` for one); empty for a file only a person can fetch
    sha256    the published digest, or null: the first verified download is then recorded in
              ``datasets.lock.json`` beside the files and enforced from then on
    size      bytes, where published (checked before hashing: a truncated file fails fast)
    format    zip, tar, tar.gz (extracted by the workflow) or file (json, txt, csv: used as is)
    manual    for registration-gated files (YouTube-VOS on CodaLab): the exact steps a person
              follows; the file they download is accepted from ``manual_dir`` and verified
    source, licence   who made it, and on what terms (printed on first download)

The manifest is read, and its files stored, by motionmag.resources, as the weights' manifest is.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from motionmag.errors import MotionmagError
from motionmag.io.download import fetch, sha256sum
from motionmag.resources import DATASETS, ManifestEntry, VerifiedStore, read_manifest

FORMATS = DATASETS.formats
LOCK_NAME = "datasets.lock.json"
# one entry type for every manifest (motionmag.resources); ``archive``: a zip or tar to extract
DatasetEntry = ManifestEntry


def load_datasets_manifest(path: str | Path) -> dict[str, DatasetEntry]:
    """The datasets manifest at ``path``, every entry checked (one-line errors)."""
    return read_manifest(path, DATASETS)


class DatasetStore(VerifiedStore):
    """The manifest, the folder its files go in, and the lock file of digests pinned there.

    A pinned file that changes upstream is refused, also after the local copy is deleted, until
    the user accepts the change with ``MOTIONMAG_REPIN=1``.
    """

    kind = DATASETS
    repin_when_missing = False

    # the lock file: digests of files whose publisher gives none, pinned at first download
    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    def _read_lock(self) -> dict:
        try:
            return json.loads(self.lock_path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError:
            raise MotionmagError(f"{self.lock_path}: not valid JSON; fix or delete it (every file is then re-pinned)") from None

    def _update_lock(self, file: str, record: dict | None) -> None:
        """Set (or drop) one file's record; safe when several download jobs finish at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{LOCK_NAME}.guard", "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            lock = self._read_lock()
            if record is None:
                lock.pop(file, None)
            else:
                lock[file] = record
            tmp = self.lock_path.with_name(f".{LOCK_NAME}.tmp")
            tmp.write_text(json.dumps(dict(sorted(lock.items())), indent=1) + "\n")
            os.replace(tmp, self.lock_path)

    def _pin_place(self, entry: DatasetEntry) -> Path:
        return self.lock_path

    def _pinned(self, entry: DatasetEntry) -> str | None:
        return self._read_lock().get(entry.file, {}).get("sha256")

    def _pin(self, entry: DatasetEntry, path: Path, origin: str) -> None:
        self._update_lock(entry.file, _record(path, origin))

    def _unpin(self, entry: DatasetEntry) -> None:
        self._update_lock(entry.file, None)

    def fetch_listed(self, url: str, relpath: str, progress: bool = False) -> Path:
        """A file named by a list rather than the manifest (a Kinetics tar part): downloaded to
        ``root/relpath``, pinned in the lock file at first download and verified afterwards."""
        path = self.root / relpath
        fetch(url, path, self._read_lock().get(relpath, {}).get("sha256"), progress=progress)
        if relpath not in self._read_lock():
            self._update_lock(relpath, _record(path, url))
        return path


def _record(path: Path, origin: str) -> dict:
    return dict(sha256=sha256sum(path), size=path.stat().st_size, url=origin, retrieved=time.strftime("%Y-%m-%d"))


__all__ = ["DatasetEntry", "DatasetStore", "FORMATS", "LOCK_NAME", "load_datasets_manifest"]
