"""Oh et al.-style synthetic training samples in HDF5 (what Oh 2018 trains on;
docs/oh2018.md#the-original-training-sample).

A sample is four frames of the same size and its magnification factor:

    frame_a    the reference frame, unperturbed
    frame_b    frame_c with a colour perturbation (the network's second input)
    frame_c    the second frame, unperturbed (motion d from frame_a)
    amplified  the target: motion alpha * d from frame_a, perturbed like frame_b

Layout of a sample file (one file, or one shard of a larger set, read by many DataLoader workers):

    /frame_a, /frame_b, /frame_c, /amplified   (N,) variable-length uint8: losslessly encoded RGB
                                               frames (lossless WebP, or PNG)
    /alpha                                     (N,) float32
    /meta                                      (N,) str: JSON of how the sample was made
    attrs: kind="oh-synthetic", encoding="webp" | "png", version=1, plus what the writer adds

Per-axis samples (Axial-MM; recipe key ``axial``) add two datasets; /alpha is then the factor
along the axis:

    /alpha_across                              (N,) float32: the factor across the axis
    /theta                                     (N,) float32: the axis angle in radians,
                                               counter-clockwise from the x axis as displayed

``factors(i)`` reads (alpha, alpha_across, theta) from either kind: Oh's samples are (alpha, alpha, 0).

A set of many shards is described by a manifest (JSON: the shards' paths relative to it, their
sample counts, sizes and sha256, and how they were made); :class:`SyntheticSet` reads either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import h5py
import numpy as np
import torch.utils.data

from motionmag.data.h5 import LazyH5, ShardedSet, atomic_h5, growing_vlen, write_shard_manifest
from motionmag.data.codecs import decode_frame, encode_frame
from motionmag.errors import MotionmagError

FRAMES = ("frame_a", "frame_b", "frame_c", "amplified")
AXIAL = ("alpha_across", "theta")  # per-axis samples' extra datasets (Axial-MM)
FORMAT_VERSION = 1
MANIFEST_KIND = "oh-synthetic-manifest"


def write_synthetic_set(
    path: str | Path,
    samples: Iterable[tuple[dict[str, np.ndarray], float, dict]],
    encoding: str = "webp",
    attrs: dict | None = None,
    axial: bool = False,
) -> int:
    """Write (frames by name, alpha, meta) samples atomically; frames RGB uint8 (H, W, 3); ``attrs``
    (JSON-able) are stored as file attributes, as JSON. ``axial``: per-axis samples, whose meta
    carries ``alpha_across`` and ``theta`` (radians), stored as their own datasets too. Returns the count."""
    n = 0
    with atomic_h5(path) as f:
        data = {name: growing_vlen(f, name) for name in FRAMES}
        data["alpha"] = f.create_dataset("alpha", (0,), dtype=np.float32, maxshape=(None,), chunks=(1024,))
        for name in AXIAL if axial else ():
            data[name] = f.create_dataset(name, (0,), dtype=np.float32, maxshape=(None,), chunks=(1024,))
        data["meta"] = f.create_dataset("meta", (0,), dtype=h5py.string_dtype(), maxshape=(None,), chunks=(64,))
        f.attrs.update(kind="oh-synthetic", encoding=encoding, version=FORMAT_VERSION)
        for key, value in (attrs or {}).items():
            f.attrs[key] = json.dumps(value)
        for frames, alpha, meta in samples:
            for ds in data.values():
                ds.resize((n + 1,))
            for name in FRAMES:
                data[name][n] = encode_frame(frames[name], encoding)
            data["alpha"][n] = alpha
            for name in AXIAL if axial else ():
                if name not in meta:
                    raise MotionmagError(f"{path}: sample {n} is not a per-axis sample (no {name} in its meta)")
                data[name][n] = meta[name]
            data["meta"][n] = json.dumps(meta)
            n += 1
        if n == 0:
            raise MotionmagError(f"{path}: no samples to write")
    return n


class SyntheticShard(LazyH5):
    """One sample file. Random access: ``shard[i] -> ((4, H, W, 3) uint8 frames in FRAMES order,
    alpha)`` (the HDF5 handle opens lazily in each process, so it can go to DataLoader workers)."""

    what = "synthetic sample file"

    def _check(self, f: h5py.File) -> int:
        if f.attrs.get("kind") != "oh-synthetic" or any(name not in f for name in (*FRAMES, "alpha")):
            raise MotionmagError(f"{self.path}: not a synthetic sample file (kind oh-synthetic: {', '.join(FRAMES)}, alpha)")
        self.axial = all(name in f for name in AXIAL)  # per-axis samples (alpha_across and theta stored)
        return len(f["alpha"])

    def __getitem__(self, index: int) -> tuple[np.ndarray, float]:
        f = self._handle()
        frames = np.stack([decode_frame(f[name][index]) for name in FRAMES])
        return frames, float(f["alpha"][index])

    def meta(self, index: int) -> dict:
        return json.loads(self._handle()["meta"][index])

    def factors(self, index: int) -> tuple[float, float, float]:
        """(alpha along theta, alpha across, theta in radians); Oh's samples: (alpha, alpha, 0)."""
        f = self._handle()
        alpha = float(f["alpha"][index])
        if not self.axial:
            return alpha, alpha, 0.0
        return alpha, float(f["alpha_across"][index]), float(f["theta"][index])


def write_manifest(path: str | Path, shards: list[str | Path], info: dict) -> dict:
    """Describe a sharded set: each shard's path (relative to the manifest), sample count, bytes
    and sha256, plus ``info`` (how the set was made, under "made"). Written atomically."""
    return write_shard_manifest(path, shards, info, MANIFEST_KIND, "samples", SyntheticShard)


class SyntheticSet(ShardedSet, torch.utils.data.Dataset):
    """A synthetic set: a manifest of shards (``.json``) or one sample file (``.h5``), as one
    map-style Dataset: ``samples[i] -> ((4, H, W, 3) uint8 frames A, B, C, amplified; alpha)``.
    Safe to hand to DataLoader workers: every shard opens its own handle in each process."""

    kind, count_key, what, shard_type = MANIFEST_KIND, "samples", "synthetic set", SyntheticShard

    def meta(self, index: int) -> dict:
        shard, local = self._locate(int(index))
        return shard.meta(local)

    @property
    def axial(self) -> bool:
        """Whether any shard holds per-axis samples (alpha_across and theta)."""
        return any(shard.axial for shard in self.shards)

    def factors(self, index: int) -> tuple[float, float, float]:
        """Sample ``index``'s (alpha along theta, alpha across, theta in radians)."""
        shard, local = self._locate(int(index))
        return shard.factors(local)
