"""Frame-pair sets in HDF5 (FlowMag's training data) and the demo pair set made from demo clips.

Layout of a pair file (a set is one file, or a manifest of shard files):

    /frame_a, /frame_b   (N,) variable-length uint8: each frame encoded losslessly (any size)
    /source              (N,) str: where the pair came from, e.g. "cat_on_gravel:0012-0013", or
                         FlowMag's two frame keys "key_a|key_b"
    attrs: encoding="png" or "webp", version=1

Encoded frames keep the file compact (FlowMag's frames vary in size and aspect). The real
datasets use lossless WebP: 19 % smaller than PNG and 38 % faster to decode (BENCHMARKS.md).
Float frames (the magnified pairs of the paper evaluation protocol, RGB float32 in [0, 1]) are
stored exactly as ``.npy`` bytes, ``encoding="npy"`` (3 MB a 512x512 frame).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import h5py
import numpy as np
import torch

from motionmag.data.codecs import decode_frame, decode_npy, encode_frame, encode_npy
from motionmag.data.h5 import LazyH5, ShardedSet, atomic_h5, growing_vlen, write_shard_manifest
from motionmag.errors import MotionmagError

FORMAT_VERSION = 1
ENCODINGS = ("png", "webp", "npy")  # npy: float32 frames, kept exactly
MANIFEST_KIND = "pair-set-manifest"


def write_pair_set(path: str | Path, pairs: Iterable[tuple[np.ndarray, np.ndarray, str]], encoding: str = "png",
                   allow_empty: bool = False) -> int:
    """Write (frame_a, frame_b, source) triples, RGB uint8 (H, W, 3) (``encoding`` png or webp) or
    float32 in [0, 1] (``npy``), atomically; return the count."""

    if encoding not in ENCODINGS:
        raise MotionmagError(f"unknown frame encoding {encoding!r}; choose {', '.join(ENCODINGS)}")

    def encode(frame: np.ndarray) -> np.ndarray:
        if (encoding == "npy") != (frame.dtype != np.uint8):
            raise MotionmagError(f"{path}: a {frame.dtype} frame for encoding {encoding} (npy is for float frames, png and webp for uint8)")
        return encode_npy(frame) if encoding == "npy" else encode_frame(frame, encoding)

    n = 0
    with atomic_h5(path) as f:
        a, b = growing_vlen(f, "frame_a"), growing_vlen(f, "frame_b")
        s = f.create_dataset("source", (0,), dtype=h5py.string_dtype(), maxshape=(None,), chunks=(64,))
        f.attrs.update(encoding=encoding, version=FORMAT_VERSION)
        for frame_a, frame_b, source in pairs:
            for ds in (a, b, s):
                ds.resize((n + 1,))
            a[n], b[n], s[n] = encode(frame_a), encode(frame_b), source
            n += 1
        if n == 0 and not allow_empty:
            raise MotionmagError(f"{path}: no pairs to write")
    return n


class PairShard(LazyH5):
    """Random access to one pair file: ``shard[i] -> (frame_a, frame_b)`` RGB uint8 arrays (float32
    for ``encoding="npy"``; the HDF5 handle opens lazily in each process, so the object can go to
    DataLoader workers)."""

    what = "pair file"

    def _check(self, f: h5py.File) -> int:
        if f.attrs.get("encoding") not in ENCODINGS or "frame_a" not in f or "frame_b" not in f:
            raise MotionmagError(f"{self.path}: not a motionmag pair file (frame_a, frame_b, encoding png, webp or npy)")
        return len(f["frame_a"])

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        f = self._handle()
        decode = decode_npy if f.attrs["encoding"] == "npy" else decode_frame
        return decode(f["frame_a"][index]), decode(f["frame_b"][index])

    def source(self, index: int) -> str:
        return self._handle()["source"][index].decode()


def write_pair_manifest(path: str | Path, shards: list[str | Path], info: dict) -> dict:
    """Describe a sharded pair set: each shard's path, pair count, bytes and sha256, and how it was made."""
    return write_shard_manifest(path, shards, info, MANIFEST_KIND, "pairs", PairShard)


class PairSet(ShardedSet, torch.utils.data.Dataset):
    """A pair set as one map-style Dataset: a pair file (``.h5``) or a manifest of shards
    (``.json``, empty shards allowed). ``pairs[i] -> (frame_a, frame_b)`` RGB uint8 arrays; safe
    to hand to DataLoader workers (every shard opens its own handle in each process)."""

    kind, count_key, what, shard_type = MANIFEST_KIND, "pairs", "pair set", PairShard

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
