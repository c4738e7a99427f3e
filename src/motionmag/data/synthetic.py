"""Oh et al.-style synthetic training samples in HDF5 (what Oh 2018 trains on; specs/oh2018.md §2.1).

A sample is four frames of the same size and its magnification factor:

    frame_a    the reference frame, unperturbed
    frame_b    frame_c with a colour perturbation (the network's second input)
    frame_c    the second frame, unperturbed (motion d from frame_a)
    amplified  the target: motion alpha * d from frame_a, perturbed like frame_b

Layout of a sample file (one file, or one shard of a larger set, read by many DataLoader workers):

    /frame_a, /frame_b, /frame_c, /amplified   (N,) variable-length uint8: PNG-encoded RGB frames
    /alpha                                     (N,) float32
    /meta                                      (N,) str: JSON of how the sample was made
    attrs: kind="oh-synthetic", encoding="png", version=1
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import h5py
import numpy as np

from motionmag.data.h5 import LazyH5, atomic_h5, growing_vlen
from motionmag.data.pairs import decode_png, encode_png
from motionmag.errors import MotionmagError

FRAMES = ("frame_a", "frame_b", "frame_c", "amplified")
FORMAT_VERSION = 1


def write_synthetic_set(path: str | Path, samples: Iterable[tuple[dict[str, np.ndarray], float, dict]]) -> int:
    """Write (frames by name, alpha, meta) samples atomically; frames RGB uint8 (H, W, 3). Returns the count."""
    n = 0
    with atomic_h5(path) as f:
        data = {name: growing_vlen(f, name) for name in FRAMES}
        data["alpha"] = f.create_dataset("alpha", (0,), dtype=np.float32, maxshape=(None,), chunks=(1024,))
        data["meta"] = f.create_dataset("meta", (0,), dtype=h5py.string_dtype(), maxshape=(None,), chunks=(64,))
        f.attrs.update(kind="oh-synthetic", encoding="png", version=FORMAT_VERSION)
        for frames, alpha, meta in samples:
            for ds in data.values():
                ds.resize((n + 1,))
            for name in FRAMES:
                data[name][n] = encode_png(frames[name])
            data["alpha"][n] = alpha
            data["meta"][n] = json.dumps(meta)
            n += 1
        if n == 0:
            raise MotionmagError(f"{path}: no samples to write")
    return n


class SyntheticSet(LazyH5):
    """Random access: ``samples[i] -> ((4, H, W, 3) uint8 frames in FRAMES order, alpha)``
    (the HDF5 handle opens lazily in each process, so the object can go to DataLoader workers)."""

    what = "synthetic sample file"

    def _check(self, f: h5py.File) -> int:
        if f.attrs.get("kind") != "oh-synthetic" or any(name not in f for name in (*FRAMES, "alpha")):
            raise MotionmagError(f"{self.path}: not a synthetic sample file (kind oh-synthetic: {', '.join(FRAMES)}, alpha)")
        return len(f["alpha"])

    def __getitem__(self, index: int) -> tuple[np.ndarray, float]:
        f = self._handle()
        frames = np.stack([decode_png(f[name][index]) for name in FRAMES])
        return frames, float(f["alpha"][index])

    def meta(self, index: int) -> dict:
        return json.loads(self._handle()["meta"][index])
