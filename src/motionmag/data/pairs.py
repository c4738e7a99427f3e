"""Frame-pair sets in HDF5 (FlowMag's training data) and the demo pair set made from demo clips.

Layout of a pair file (a set is one file, or a manifest of shard files):

    /frame_a, /frame_b   (N,) variable-length uint8: each frame encoded losslessly (any size)
    /source              (N,) str: where the pair came from, e.g. "cat_on_gravel:0012-0013", or
                         FlowMag's two frame keys "key_a|key_b"
    attrs: encoding="png" or "webp", version=1

Encoded frames keep the file compact (FlowMag's frames vary in size and aspect). The real
datasets use lossless WebP: 19 % smaller than PNG and 38 % faster to decode (BENCHMARKS.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import bisect
import hashlib
import json
import os

import cv2
import h5py
import numpy as np
import torch

from motionmag.data.h5 import LazyH5, atomic_h5, fingerprint, growing_vlen
from motionmag.errors import MotionmagError

FORMAT_VERSION = 1
ENCODINGS = ("png", "webp")
MANIFEST_KIND = "pair-set-manifest"


def encode_png(frame: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:  # pragma: no cover - OpenCV only fails on malformed arrays
        raise MotionmagError("could not PNG-encode a frame")
    return data.reshape(-1)


def decode_frame(data: np.ndarray) -> np.ndarray:
    frame = cv2.imdecode(np.asarray(data, np.uint8), cv2.IMREAD_COLOR)
    if frame is None:
        raise MotionmagError("an undecodable frame (corrupt sample file?)")
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def write_pair_set(path: str | Path, pairs: Iterable[tuple[np.ndarray, np.ndarray, str]], encoding: str = "png",
                   allow_empty: bool = False) -> int:
    """Write (frame_a, frame_b, source) triples, RGB uint8 (H, W, 3), atomically; return the count."""
    from motionmag.data.synthetic import encode_frame

    n = 0
    with atomic_h5(path) as f:
        a, b = growing_vlen(f, "frame_a"), growing_vlen(f, "frame_b")
        s = f.create_dataset("source", (0,), dtype=h5py.string_dtype(), maxshape=(None,), chunks=(64,))
        f.attrs.update(encoding=encoding, version=FORMAT_VERSION)
        for frame_a, frame_b, source in pairs:
            for ds in (a, b, s):
                ds.resize((n + 1,))
            a[n], b[n], s[n] = encode_frame(frame_a, encoding), encode_frame(frame_b, encoding), source
            n += 1
        if n == 0 and not allow_empty:
            raise MotionmagError(f"{path}: no pairs to write")
    return n


class PairShard(LazyH5):
    """Random access to one pair file: ``shard[i] -> (frame_a, frame_b)`` RGB uint8 arrays
    (the HDF5 handle opens lazily in each process, so the object can go to DataLoader workers)."""

    what = "pair file"

    def _check(self, f: h5py.File) -> int:
        if f.attrs.get("encoding") not in ENCODINGS or "frame_a" not in f or "frame_b" not in f:
            raise MotionmagError(f"{self.path}: not a motionmag pair file (frame_a, frame_b, encoding png or webp)")
        return len(f["frame_a"])

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        f = self._handle()
        return decode_frame(f["frame_a"][index]), decode_frame(f["frame_b"][index])

    def source(self, index: int) -> str:
        return self._handle()["source"][index].decode()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_pair_manifest(path: str | Path, shards: list[str | Path], info: dict) -> dict:
    """Describe a sharded pair set: each shard's path (relative to the manifest), pair count,
    bytes and sha256, plus how it was made. Written atomically."""
    path = Path(path)
    entries = [dict(path=os.path.relpath(shard, path.parent), pairs=len(PairShard(shard)),
                    bytes=Path(shard).stat().st_size, sha256=_sha256(Path(shard))) for shard in shards]
    manifest = dict(kind=MANIFEST_KIND, version=FORMAT_VERSION, pairs=sum(e["pairs"] for e in entries),
                    bytes=sum(e["bytes"] for e in entries), made=info, shards=entries)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, path)
    return manifest


class PairSet(torch.utils.data.Dataset):
    """A pair set as one map-style Dataset: a pair file (``.h5``) or a manifest of shards
    (``.json``, empty shards allowed). ``pairs[i] -> (frame_a, frame_b)`` RGB uint8 arrays; safe
    to hand to DataLoader workers (every shard opens its own handle in each process)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.suffix == ".json":
            try:
                self.manifest = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError):
                self.manifest = None
            if not isinstance(self.manifest, dict) or self.manifest.get("kind") != MANIFEST_KIND:
                raise MotionmagError(f"{self.path}: not a pair set manifest (kind {MANIFEST_KIND})")
            self.shards = []
            for entry in self.manifest["shards"]:
                shard = PairShard(self.path.parent / entry["path"])
                if len(shard) != entry["pairs"]:
                    raise MotionmagError(f"{shard.path}: {len(shard)} pairs, the manifest says {entry['pairs']} (rebuild it)")
                self.shards.append(shard)
        else:
            self.manifest, self.shards = None, [PairShard(self.path)]
        self.starts = np.cumsum([0] + [len(s) for s in self.shards]).tolist()

    @property
    def fingerprint(self) -> str:
        """Identifies the content: the shards' sha256s from the manifest, or the file's fingerprint."""
        if self.manifest is None:
            return fingerprint(self.path)
        return hashlib.sha256(" ".join(e["sha256"] for e in self.manifest["shards"]).encode()).hexdigest()

    def __len__(self) -> int:
        return self.starts[-1]

    def _locate(self, index: int) -> tuple[PairShard, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"pair {index} of {len(self)}")
        k = bisect.bisect_right(self.starts, index) - 1
        return self.shards[k], index - self.starts[k]

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        shard, local = self._locate(int(index))
        return shard[local]

    def source(self, index: int) -> str:
        shard, local = self._locate(int(index))
        return shard.source(local)


def candidate_pairs(n_frames: int, spacing: int) -> list[tuple[int, int]]:
    """FlowMag's candidates: non-overlapping chunks, pairs (2k, 2k + s) inside the clip."""
    return [(i, i + spacing) for i in range(0, n_frames - spacing, 2)]


def demo_pairs(clips: dict[str, str | Path], spacings: Iterable[int]) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """Pairs from the demo clips' PNG frame folders, every spacing of ``spacings``."""
    from motionmag.io import open_video

    for name, folder in clips.items():
        frames = list(open_video(folder))  # demo clips are short
        for spacing in spacings:
            for i, j in candidate_pairs(len(frames), spacing):
                yield frames[i], frames[j], f"{name}:{i:04d}-{j:04d}"
