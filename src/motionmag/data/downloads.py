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
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from motionmag.errors import MotionmagError
from motionmag.flow.weights import REPO_ROOT
from motionmag.io.download import fetch, sha256sum, verify

FORMATS = ("zip", "tar", "tar.gz", "file")
_REQUIRED = ("file", "sha256", "format", "source", "licence")
_OPTIONAL = ("url", "urls", "size", "manual", "notes")
LOCK_NAME = "datasets.lock.json"


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    file: str
    urls: tuple[str, ...]
    sha256: str | None
    format: str
    source: str
    licence: str
    size: int | None = None
    manual: str | None = None  # the steps a person follows, for registration-gated files

    @property
    def archive(self) -> bool:
        return self.format != "file"


def _parse(name: str, raw: dict, manifest: Path) -> DatasetEntry:
    where = f"{manifest}: {name}"
    if not isinstance(raw, dict):
        raise MotionmagError(f"{where}: expected a mapping with {', '.join(_REQUIRED)}")
    missing = [key for key in _REQUIRED if key not in raw]
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown field {', '.join(unknown)}"
        raise MotionmagError(f"{where}: {problem}")
    urls = raw.get("urls") or ([raw["url"]] if raw.get("url") else [])
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise MotionmagError(f"{where}: urls must be a list of URLs")
    if not urls and not raw.get("manual"):
        raise MotionmagError(f"{where}: needs urls, or manual steps for a file only a person can fetch")
    sha = raw["sha256"]
    if sha is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", str(sha)):
        raise MotionmagError(f"{where}: sha256 must be 64 hex digits or null, got {sha!r}")
    if raw["format"] not in FORMATS:
        raise MotionmagError(f"{where}: format {raw['format']!r} is not one of {', '.join(FORMATS)}")
    if "/" in raw["file"] or raw["file"].startswith("."):
        raise MotionmagError(f"{where}: file must be a plain file name, got {raw['file']!r}")
    return DatasetEntry(name, raw["file"], tuple(urls), str(sha).lower() if sha else None, raw["format"],
                        raw["source"], raw["licence"], raw.get("size"), raw.get("manual"))


def load_datasets_manifest(path: str | Path) -> dict[str, DatasetEntry]:
    path = Path(path)
    if not path.is_file():
        raise MotionmagError(f"datasets manifest {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise MotionmagError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise MotionmagError(f"{path}: expected a mapping of name -> archive")
    return {name: _parse(name, entry, path) for name, entry in raw.items()}


class DatasetStore:
    """The manifest, the folder its files go in, and the lock file of digests pinned there."""

    def __init__(self, manifest: str | Path | None = None, root: str | Path | None = None,
                 manual_dir: str | Path | None = None):
        self.manifest = Path(manifest or os.environ.get("MOTIONMAG_DATASETS_MANIFEST")
                             or REPO_ROOT / "config" / "datasets.yaml")
        self.root = Path(root or os.environ.get("MOTIONMAG_DATASETS_DIR") or REPO_ROOT / "resources" / "datasets")
        self.manual_dir = Path(manual_dir) if manual_dir else self.root / "manual"
        self.entries = load_datasets_manifest(self.manifest)

    def entry(self, name: str) -> DatasetEntry:
        if name not in self.entries:
            raise MotionmagError(f"{self.manifest} lists no dataset file {name!r}")
        return self.entries[name]

    def path(self, name: str) -> Path:
        return self.root / self.entry(name).file

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

    def expected_sha256(self, name: str) -> str | None:
        entry = self.entry(name)
        return entry.sha256 or self._read_lock().get(entry.file, {}).get("sha256")

    def require(self, name: str) -> Path:
        """The verified local file, or a one-line error saying how to get it."""
        path, entry = self.path(name), self.entry(name)
        if not path.is_file():
            raise MotionmagError(
                f"{entry.file} ({name}) is missing from {self.root}/: run `snakemake --cores 1 "
                f"{path}`" + (" (it needs a manual step, which that prints)" if entry.manual else "")
            )
        verify(path, self.expected_sha256(name), entry.size)
        return path

    def _pin(self, name: str, url: str) -> None:
        entry, path = self.entry(name), self.path(name)
        if not entry.sha256 and not self._read_lock().get(entry.file):
            self._update_lock(entry.file, dict(sha256=sha256sum(path), size=path.stat().st_size, url=url,
                                               retrieved=time.strftime("%Y-%m-%d")))

    def fetch(self, name: str, progress: bool = True) -> Path:
        """Download (or, for a manual entry, take from ``manual_dir``), verify, and pin if unpublished."""
        entry, path = self.entry(name), self.path(name)
        if not path.exists() and not entry.sha256:
            locked = self._read_lock().get(entry.file)
            if locked and os.environ.get("MOTIONMAG_REPIN") == "1":
                self._update_lock(entry.file, None)  # an upstream change the user has accepted
        if entry.manual and not path.exists():
            return self._take_manual(name)
        try:
            fetch(entry.urls, path, self.expected_sha256(name), entry.size, progress=progress)
        except MotionmagError as error:
            if self._read_lock().get(entry.file) and "does not match" in str(error):
                raise MotionmagError(f"{error} (the digest pinned in {self.lock_path} at the first download; "
                                     "if upstream changed on purpose, rerun with MOTIONMAG_REPIN=1)") from None
            raise
        self._pin(name, entry.urls[0] if entry.urls else "")
        return path

    def fetch_listed(self, url: str, relpath: str, progress: bool = False) -> Path:
        """A file named by a list rather than the manifest (a Kinetics tar part): downloaded to
        ``root/relpath``, pinned in the lock file at first download and verified afterwards."""
        path = self.root / relpath
        fetch(url, path, self._read_lock().get(relpath, {}).get("sha256"), progress=progress)
        if relpath not in self._read_lock():
            self._update_lock(relpath, dict(sha256=sha256sum(path), size=path.stat().st_size, url=url,
                                            retrieved=time.strftime("%Y-%m-%d")))
        return path

    def _take_manual(self, name: str) -> Path:
        entry, path = self.entry(name), self.path(name)
        placed = self.manual_dir / entry.file
        if not placed.is_file():
            raise MotionmagError(
                f"{entry.file} ({name}) needs a manual download: {' '.join(entry.manual.split())} "
                f"Then place it as {placed} and run again."
            )
        verify(placed, self.expected_sha256(name), entry.size)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            os.link(placed, tmp)  # same file system: no copy of a multi-GB archive
        except OSError:
            shutil.copyfile(placed, tmp)
        os.replace(tmp, path)
        self._pin(name, f"manual:{placed}")
        return path


__all__ = ["DatasetEntry", "DatasetStore", "FORMATS", "LOCK_NAME", "load_datasets_manifest"]
