"""Archives: safe extraction (no member may land outside its folder), and pair sets read
straight out of a released zip.

FlowMag's test split is never regenerated (its sampler is unseeded and has two bugs,
docs/datasets.md#test-split): the authors' released zip is read as it is.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from motionmag.errors import MotionmagError

EXTRACTED_MARK = ".extracted.json"


def _unsafe_reason(name: str) -> str | None:
    """Why an archive member name may not be extracted (None: it is safe)."""
    if not name or "\0" in name:
        return "an empty name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "a '..' component"
    return None


def _members(archive: Path, fmt: str) -> list[tuple[str, int, str]]:
    """(name, size, kind) of every member, kind "file" or "dir"; links and devices are refused."""
    if fmt == "zip":
        with zipfile.ZipFile(archive) as zf:
            out = []
            for info in zf.infolist():
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise MotionmagError(f"{archive}: member {info.filename!r} is a symbolic link; refused")
                out.append((info.filename, info.file_size, "dir" if info.is_dir() else "file"))
            return out
    with tarfile.open(archive, "r:gz" if fmt == "tar.gz" else "r:") as tf:
        out = []
        for info in tf.getmembers():
            if not (info.isfile() or info.isdir()):
                raise MotionmagError(f"{archive}: member {info.name!r} is a link or device; refused")
            out.append((info.name, info.size, "dir" if info.isdir() else "file"))
        return out


def extract_archive(archive: str | Path, dest: str | Path, fmt: str, progress: bool = False) -> dict:
    """Extract ``archive`` into the folder ``dest``, all or nothing.

    Every member name is checked before anything is written: an absolute path, a '..' component
    or a link refuses the whole archive. Members go into ``dest.partial`` (CRCs checked while
    reading), which is renamed to ``dest`` at the end; the archive itself is never touched.
    ``dest/.extracted.json`` records the archive's size and the member count and bytes.
    """
    from tqdm import tqdm

    archive, dest = Path(archive), Path(dest)
    try:
        members = _members(archive, fmt)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as err:
        raise MotionmagError(f"{archive}: not a readable {fmt} archive ({err})") from None
    for name, _, _ in members:
        reason = _unsafe_reason(name)
        if reason:
            raise MotionmagError(f"{archive}: member {name!r} has {reason}; refused (nothing extracted)")
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    files = [m for m in members if m[2] == "file"]
    bar = tqdm(total=sum(size for _, size, _ in files), unit="B", unit_scale=True, desc=archive.name, disable=not progress)
    try:
        if fmt == "zip":
            with zipfile.ZipFile(archive) as zf:
                for name, size, kind in members:
                    target = partial / name
                    if kind == "dir":
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(name) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    bar.update(size)
        else:
            with tarfile.open(archive, "r:gz" if fmt == "tar.gz" else "r:") as tf:
                tf.extractall(partial, filter="data")  # the stdlib's own guard, on top of ours
                bar.update(bar.total)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as err:
        shutil.rmtree(partial, ignore_errors=True)
        raise MotionmagError(f"{archive}: damaged ({err}); delete it and download it again") from None
    finally:
        bar.close()
    record = dict(archive=archive.name, archive_bytes=archive.stat().st_size, files=len(files),
                  bytes=sum(size for _, size, _ in files))
    (partial / EXTRACTED_MARK).write_text(json.dumps(record, indent=1) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(partial, dest)
    return record


def _decode(data: bytes, name: str) -> np.ndarray:
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise MotionmagError(f"{name}: not a decodable image")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def released_pairs(archive: str | Path) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """(I0, I1, name) of a FlowMag-style split inside a zip: ``<split>/frameA/<name>``,
    ``<split>/frameB/<name>``, in the order of ``<split>_fn.json`` when present (else sorted).
    Members are read in memory, never extracted, so no archive path can escape anywhere."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise MotionmagError(f"{archive}: not a readable zip ({err})") from None
    with zf:
        members = set(zf.namelist())
        frames_a = sorted(m for m in members if posixpath.basename(posixpath.dirname(m)) == "frameA" and not m.endswith("/"))
        if not frames_a:
            raise MotionmagError(f"{archive}: no <split>/frameA/ folder of images (FlowMag's layout)")
        split_dir = posixpath.dirname(posixpath.dirname(frames_a[0]))
        split = posixpath.basename(split_dir)
        listing = posixpath.join(posixpath.dirname(split_dir), f"{split}_fn.json")
        names = [posixpath.basename(m) for m in frames_a if posixpath.dirname(posixpath.dirname(m)) == split_dir]
        if listing in members:
            try:
                names = json.loads(zf.read(listing))
            except (json.JSONDecodeError, UnicodeDecodeError):
                names = None
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise MotionmagError(f"{archive}: {listing} is not a JSON list of file names")
        for name in names:
            a, b = (posixpath.join(split_dir, folder, name) for folder in ("frameA", "frameB"))
            if a not in members or b not in members:
                raise MotionmagError(f"{archive}: pair {name} lacks {a if a not in members else b}")
            try:
                data_a, data_b = zf.read(a), zf.read(b)
            except (zipfile.BadZipFile, OSError) as err:  # a CRC mismatch: a damaged download
                raise MotionmagError(f"{archive}: {name} is damaged ({err}); delete the zip and download it again") from None
            yield _decode(data_a, a), _decode(data_b, b), name
