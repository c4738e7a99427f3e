"""Dataset archives: the manifest (config/datasets.yaml), verified resumable downloads (the same
machinery as the flow weights), and pair sets read straight out of a released zip.

FlowMag's test split is never regenerated (its sampler is unseeded and has two bugs,
specs/datasets.md §1.6): the authors' released zip is read as it is.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from motionmag.errors import MotionmagError
from motionmag.flow.weights import REPO_ROOT, WeightsStore


class DatasetStore(WeightsStore):
    """config/datasets.yaml (or ``$MOTIONMAG_DATASETS_MANIFEST``) and resources/datasets/."""

    formats = ("zip",)
    what = "datasets manifest"
    default_manifest = ("MOTIONMAG_DATASETS_MANIFEST", REPO_ROOT / "config" / "datasets.yaml")
    default_root = ("MOTIONMAG_DATASETS_DIR", REPO_ROOT / "resources" / "datasets")


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
