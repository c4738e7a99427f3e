"""Resources: the project root, the download manifests and the verified stores of their files.

Two manifests list the files this project fetches (or ships) and how to check them:
``config/weights.yaml`` (pretrained networks, ``$MOTIONMAG_WEIGHTS_MANIFEST``) and
``config/datasets.yaml`` (dataset archives, ``$MOTIONMAG_DATASETS_MANIFEST``). Both are read by
:func:`read_manifest`, one parser whose field rules come from the manifest's :class:`ManifestKind`;
each entry is a :class:`ManifestEntry`. A :class:`VerifiedStore` is a manifest plus the folder
its files go in (``resources/weights/``, ``resources/datasets/``, or ``$MOTIONMAG_WEIGHTS_DIR``,
``$MOTIONMAG_DATASETS_DIR``): it fetches a file through :mod:`motionmag.io.download`, verifies
it against its digest before handing it out, and pins the digest of a file whose publisher gives
none at its first download. Files made by this project ship in ``resources/release/`` instead
(``bundled: true``, a full sha256 and no url).

The stores of each kind (``flow.weights.WeightsStore``, ``data.downloads.DatasetStore``) and the
workflow (``read_manifest(path, "weights")``) use this module; it imports nothing above ``io``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from motionmag.errors import MotionmagError
from motionmag.io.download import fetch, sha256sum, verify

# the repository this package was installed from (src/motionmag/resources.py -> the root)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# files made by this project (the released demo weights), committed to the repository
BUNDLED_DIR = PROJECT_ROOT / "resources" / "release"
ARCHIVE_FORMATS = ("zip", "tar", "tar.gz")


@dataclass(frozen=True)
class ManifestKind:
    """What entries of one manifest may hold, and where its manifest and files are by default."""

    name: str  # "weights" | "datasets"
    formats: tuple[str, ...]
    required: tuple[str, ...]  # "url" is not required of a bundled entry
    optional: tuple[str, ...]
    sha256_digits: int  # the fewest hex digits a published digest may have (a prefix); 64: all of it
    holds: str  # what the manifest maps names to, for "expected a mapping of ..."
    lists: str  # how an entry is named in "MANIFEST lists no ... NAME"
    manifest_env: str
    manifest: Path
    dir_env: str
    dir: Path

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional

    def default_manifest(self) -> Path:
        return Path(os.environ.get(self.manifest_env) or self.manifest)

    def default_dir(self) -> Path:
        return Path(os.environ.get(self.dir_env) or self.dir)


WEIGHTS = ManifestKind(
    name="weights",
    # "flowmag": the FlowMag authors' released generator checkpoints (raft_chkpt_00140.pth, ...)
    # "motionmag": a model.pt exported by this project's own trainer (the released demo weights)
    formats=("torchvision", "princeton-raft", "ptlflow", "gmflow", "arflow", "flowmag", "motionmag", "axial", "eulermormer", "stbvmm"),
    required=("file", "url", "sha256", "format", "source", "licence"),
    # bundled weights say how they were made (recipe) and how long that took (training_time)
    optional=("size", "notes", "bundled", "recipe", "training_time"),
    sha256_digits=8,  # torch.hub-style hosts publish only the 8-digit prefix in the file name
    holds="model name -> checkpoint",
    lists="checkpoint for",
    manifest_env="MOTIONMAG_WEIGHTS_MANIFEST",
    manifest=PROJECT_ROOT / "config" / "weights.yaml",
    dir_env="MOTIONMAG_WEIGHTS_DIR",
    dir=PROJECT_ROOT / "resources" / "weights",
)
DATASETS = ManifestKind(
    name="datasets",
    formats=(*ARCHIVE_FORMATS, "file"),  # archives are extracted by the workflow; a file is used as is
    required=("file", "sha256", "format", "source", "licence"),
    optional=("url", "urls", "size", "manual", "notes"),
    sha256_digits=64,
    holds="name -> archive",
    lists="dataset file",
    manifest_env="MOTIONMAG_DATASETS_MANIFEST",
    manifest=PROJECT_ROOT / "config" / "datasets.yaml",
    dir_env="MOTIONMAG_DATASETS_DIR",
    dir=PROJECT_ROOT / "resources" / "datasets",
)
KINDS = {kind.name: kind for kind in (WEIGHTS, DATASETS)}


def manifest_kind(kind: str | ManifestKind) -> ManifestKind:
    if isinstance(kind, ManifestKind):
        return kind
    if kind not in KINDS:
        raise MotionmagError(f"unknown manifest kind {kind!r}: one of {', '.join(KINDS)}")
    return KINDS[kind]


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a manifest, checked: a plain file name, a known format, a well-formed digest."""

    name: str
    file: str
    urls: tuple[str, ...]  # mirrors, tried in order; empty for a bundled or a manual-only file
    sha256: str | None  # lower case; a full digest or a prefix; None: none published (pinned on first fetch)
    format: str
    source: str
    licence: str
    size: int | None = None  # bytes, where published
    bundled: bool = False  # ships in resources/release/ (made by this project)
    manual: str | None = None  # the steps a person follows, for registration-gated files

    @property
    def url(self) -> str:
        """The first (for weights: the only) mirror, or "" for a file not downloaded."""
        return self.urls[0] if self.urls else ""

    @property
    def archive(self) -> bool:
        return self.format in ARCHIVE_FORMATS

    def path_under(self, root: str | Path, bundled_dir: str | Path = BUNDLED_DIR) -> Path:
        """Where the file lies: ``bundled_dir/FILE`` for a bundled file, else ``root/FILE``."""
        return Path(bundled_dir if self.bundled else root) / self.file


def parse_entry(name: str, raw: object, manifest: str | Path, kind: str | ManifestKind) -> ManifestEntry:
    """One manifest entry, or a one-line MotionmagError naming the manifest, the entry and the problem."""
    kind = manifest_kind(kind)
    where = f"{manifest}: {name}"
    if not isinstance(raw, dict):
        raise MotionmagError(f"{where}: expected a mapping with {', '.join(kind.required)}")
    bundled = raw.get("bundled", False)
    if not isinstance(bundled, bool):
        raise MotionmagError(f"{where}: bundled must be true or false, got {bundled!r}")
    missing = [key for key in kind.required if key not in raw and not (bundled and key == "url")]
    if missing:
        raise MotionmagError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(key) for key in set(raw) - set(kind.fields))
    if unknown:
        raise MotionmagError(f"{where}: unknown field {', '.join(unknown)}")
    file, sha, manual, size = raw["file"], raw["sha256"], raw.get("manual"), raw.get("size")
    if not isinstance(file, str) or not file or "/" in file or file.startswith("."):
        raise MotionmagError(f"{where}: file must be a plain file name, got {file!r}")
    if raw["format"] not in kind.formats:
        raise MotionmagError(f"{where}: format {raw['format']!r} is not one of {', '.join(kind.formats)}")
    if bundled and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha)):
        raise MotionmagError(f"{where}: a bundled file needs its full sha256 (64 hex digits), got {sha!r}")
    if sha is not None and not re.fullmatch(rf"[0-9a-fA-F]{{{kind.sha256_digits},64}}", str(sha)):
        digits = "64" if kind.sha256_digits == 64 else f"{kind.sha256_digits} to 64"
        raise MotionmagError(f"{where}: sha256 must be {digits} hex digits or null, got {sha!r}")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise MotionmagError(f"{where}: size must be a number of bytes, got {size!r}")
    if manual is not None and not isinstance(manual, str):
        raise MotionmagError(f"{where}: manual must be the steps a person follows, as text")
    urls = raw.get("urls") or ([raw["url"]] if raw.get("url") else [])
    if not isinstance(urls, list) or not all(isinstance(url, str) and url for url in urls):
        raise MotionmagError(f"{where}: urls must be a list of URLs")
    if not urls and not manual and not bundled:
        steps = ", or manual steps for a file only a person can fetch" if "manual" in kind.fields else ""
        raise MotionmagError(f"{where}: needs a url{steps}")
    return ManifestEntry(name, file, tuple(urls), str(sha).lower() if sha else None, raw["format"],
                         raw["source"], raw["licence"], size, bundled, manual)


def read_manifest(path: str | Path, kind: str | ManifestKind) -> dict[str, ManifestEntry]:
    """Every entry of the manifest at ``path``, checked by the rules of ``kind`` ("weights" or
    "datasets"); the first mistake is a one-line MotionmagError."""
    kind, path = manifest_kind(kind), Path(path)
    if not path.is_file():
        raise MotionmagError(f"{kind.name} manifest {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise MotionmagError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise MotionmagError(f"{path}: expected a mapping of {kind.holds}")
    return {str(name): parse_entry(str(name), entry, path, kind) for name, entry in raw.items()}


class VerifiedStore:
    """A manifest plus the folder its files go in: each file fetched once, verified before use.

    A digest the manifest does not give is pinned at the first download, by default in
    ``FILE.sha256`` beside the file (subclasses keep pins elsewhere: ``_pinned``, ``_pin``,
    ``_unpin``, ``_pin_place``). A file with ``manual`` steps is taken from ``manual_dir``.
    """

    kind: ManifestKind
    # a pinned file that is deleted is pinned afresh at its next download (else: only with
    # MOTIONMAG_REPIN=1, and a different file is refused)
    repin_when_missing = True

    def __init__(self, manifest: str | Path | None = None, root: str | Path | None = None,
                 manual_dir: str | Path | None = None):
        self.manifest = Path(manifest or self.kind.default_manifest())
        self.root = Path(root or self.kind.default_dir())
        self.manual_dir = Path(manual_dir) if manual_dir else self.root / "manual"
        self.entries = read_manifest(self.manifest, self.kind)

    def entry(self, name: str) -> ManifestEntry:
        if name not in self.entries:
            raise MotionmagError(f"{self.manifest} lists no {self.kind.lists} {name!r}")
        return self.entries[name]

    def path(self, name: str) -> Path:
        return self.entry(name).path_under(self.root)

    def present(self, name: str) -> bool:
        return self.path(name).is_file()

    def expected_sha256(self, name: str) -> str | None:
        """The manifest's digest, else the one pinned when an unpublished file was first fetched."""
        entry = self.entry(name)
        return entry.sha256 or self._pinned(entry)

    def require(self, name: str) -> Path:
        """The verified local file, or a one-line error naming the file, its place and how to get it."""
        entry, path = self.entry(name), self.path(name)
        if not path.is_file():
            if entry.bundled:
                raise MotionmagError(f"{path}: the bundled file for {name} is missing (a damaged checkout?)")
            raise MotionmagError(self._missing(entry, path))
        verify(path, self.expected_sha256(name), entry.size)
        return path

    def fetch(self, name: str, progress: bool = True) -> Path:
        """Download (or, for a manual entry, take from ``manual_dir``), verify, and pin if unpublished."""
        entry, path = self.entry(name), self.path(name)
        if entry.bundled:  # ships with the code: nothing to download, only to verify
            return self.require(name)
        if not path.exists() and not entry.sha256 and self._pinned(entry):
            if self.repin_when_missing or os.environ.get("MOTIONMAG_REPIN") == "1":
                self._unpin(entry)  # deleted, or an upstream change the user has accepted
        if entry.manual and not path.exists():
            return self._take_manual(entry, path)
        try:
            fetch(entry.urls, path, self.expected_sha256(name), entry.size, progress=progress)
        except MotionmagError as error:
            if not entry.sha256 and self._pinned(entry) and "does not match" in str(error):
                raise MotionmagError(f"{error} (the digest pinned in {self._pin_place(entry)} at the first download; "
                                     "if upstream changed on purpose, rerun with MOTIONMAG_REPIN=1)") from None
            raise
        if not entry.sha256 and not self._pinned(entry):  # nothing published: pin what arrived
            self._pin(entry, path, entry.url)
        return path

    def _take_manual(self, entry: ManifestEntry, path: Path) -> Path:
        placed = self.manual_dir / entry.file
        if not placed.is_file():
            raise MotionmagError(
                f"{entry.file} ({entry.name}) needs a manual download: {' '.join(entry.manual.split())} "
                f"Then place it as {placed} and run again."
            )
        verify(placed, self.expected_sha256(entry.name), entry.size)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            os.link(placed, tmp)  # same file system: no copy of a multi-GB archive
        except OSError:
            shutil.copyfile(placed, tmp)
        os.replace(tmp, path)
        if not entry.sha256 and not self._pinned(entry):
            self._pin(entry, path, f"manual:{placed}")
        return path

    def _missing(self, entry: ManifestEntry, path: Path) -> str:
        """The one-line error for a file not yet fetched."""
        return (f"{entry.file} ({entry.name}) is missing from {self.root}/: run `snakemake --cores 1 {path}`"
                + (" (it needs a manual step, which that prints)" if entry.manual else ""))

    # pins: FILE.sha256 beside the file
    def _pin_place(self, entry: ManifestEntry) -> Path:
        path = entry.path_under(self.root)
        return path.with_name(path.name + ".sha256")

    def _pinned(self, entry: ManifestEntry) -> str | None:
        place = self._pin_place(entry)
        return place.read_text().split()[0] if place.is_file() else None

    def _pin(self, entry: ManifestEntry, path: Path, origin: str) -> None:
        self._pin_place(entry).write_text(f"{sha256sum(path)}  {path.name}\n")

    def _unpin(self, entry: ManifestEntry) -> None:
        self._pin_place(entry).unlink(missing_ok=True)


__all__ = [
    "ARCHIVE_FORMATS",
    "BUNDLED_DIR",
    "DATASETS",
    "KINDS",
    "ManifestEntry",
    "ManifestKind",
    "PROJECT_ROOT",
    "VerifiedStore",
    "WEIGHTS",
    "manifest_kind",
    "parse_entry",
    "read_manifest",
]
