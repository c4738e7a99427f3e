"""Axial-MM's published evaluation set (``generic_evaluation_data.zip``; docs/oh2018.md#scoring-the-sweeps-ohs-protocol-and-axial-mms)
as a synthetic sweep set, and the alphas of its evaluation script.

The set re-creates Oh et al.'s two sweeps (docs/oh2018.md#the-papers-evaluation); its synthesis
code was never released. Layout, in the zip or extracted:

    <root>/subpixel/mode00 ... mode14/    input motion 0.04 -> 1 px, log-spaced (mode k: 0.04 * 25^(k/14))
    <root>/noise005/mode00 ... mode20/    motion 0.05 px, photon noise factor 0.01 * 10^(k/5)
    each mode folder: *A.png, *B.png, *Y.png (frame A, frame B, the magnified truth), paired by
    their sorted names; no C frame

:func:`import_axial_eval` turns it into a :class:`~motionmag.synth.samples.SyntheticSet` file
(frame_c = frame_b = B, amplified = Y) whose samples carry the sweep metadata
:func:`~motionmag.evaluate.sweep.evaluate_sweep` groups by. Their alphas are those
``script/generic_eval.py`` uses: 10 px / a **rounded** motion for subpixel
(:data:`AXIAL_SUBPIXEL_MOTIONS`, up to 2.9 % off the exact log-spaced motion), 200 for noise.
"""

from __future__ import annotations

import io
import math
import numbers
import os
import re
import zipfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from motionmag.errors import MotionmagError

# generic_eval.py's subpixel motions, rounded as the script has them (kept: they are the original's alphas)
AXIAL_SUBPIXEL_MOTIONS = (0.040, 0.050, 0.063, 0.079, 0.10, 0.13, 0.16, 0.20, 0.25, 0.32, 0.40, 0.50, 0.63, 0.79, 1.00)
AXIAL_MAGNIFIED = 10.0  # px: alpha = magnified motion / input motion
AXIAL_NOISE_MOTION = 0.05  # px, the noise sweep's one motion
AXIAL_NOISE_ALPHA = 200.0  # the script's 10 / 0.05 for every noise mode
# how far a level or an alpha may be from Axial's and still be taken for it: the rounding is at most
# 2.9 % off, and neighbouring rounded motions are 20-26 % apart
AXIAL_TOLERANCE = 0.05

# sweep kind (as the sample metadata names it) -> (folder in the set, number of modes)
AXIAL_SWEEPS = {"subpixel": ("subpixel", 15), "noise": ("noise005", 21)}
LAYOUT = "subpixel/mode00-14 and noise005/mode00-20, each with *A.png, *B.png, *Y.png"


def axial_levels(kind: str) -> np.ndarray:
    """The set's levels per mode: input motion in px (subpixel, exactly log-spaced 0.04-1) or the
    noise factor (noise, 0.01 * 10^(k/5)); the same as this project's own sweeps (config.yaml)."""
    if kind == "subpixel":
        return np.geomspace(0.04, 1.0, 15)
    if kind == "noise":
        return np.geomspace(0.01, 100.0, 21)
    raise MotionmagError(f"Axial-MM's evaluation set has sweeps subpixel and noise, not {kind!r}")


def axial_alpha(kind: str, level: float, alpha: float | None = None) -> float:
    """The alpha Axial-MM's ``generic_eval.py`` uses for a sweep level: 10 / the rounded motion
    nearest ``level`` (subpixel) or 200 (noise). A one-line :class:`MotionmagError` where ``level``
    is not one of the script's motions, or where the sample's own ``alpha`` is not one that
    magnifies to Axial's 10 px (within :data:`AXIAL_TOLERANCE`)."""
    if kind == "subpixel":
        if not level > 0:
            raise MotionmagError(f"subpixel level {level!r} is not a motion in px")
        motion = min(AXIAL_SUBPIXEL_MOTIONS, key=lambda m: abs(math.log(level / m)))
        if abs(level / motion - 1) > AXIAL_TOLERANCE:
            raise MotionmagError(f"Axial-MM's protocol: input motion {level:g} px is none of generic_eval.py's "
                                 f"({', '.join(f'{m:g}' for m in AXIAL_SUBPIXEL_MOTIONS)})")
        out = AXIAL_MAGNIFIED / motion
    elif kind == "noise":
        out = AXIAL_NOISE_ALPHA
    else:
        raise MotionmagError(f"Axial-MM's protocol has sweeps subpixel and noise, not {kind!r}")
    if alpha is not None and abs(alpha / out - 1) > AXIAL_TOLERANCE:
        raise MotionmagError(f"Axial-MM's protocol: a {kind} sample at level {level:g} has alpha {alpha:g}, not about "
                             f"{out:g} (its sweep does not magnify to {AXIAL_MAGNIFIED:g} px)")
    return out


# ---- reading the set, extracted or zipped -------------------------------------------------------

_MEMBER = re.compile(r"^(?P<prefix>(?:.*/)?)(?P<folder>subpixel|noise005)/(?P<mode>mode\d+)/(?P<name>[^/]+)$")
_FRAMES = ("A", "B", "Y")


class _Source:
    """The set's files, by path relative to the folder or the zip (POSIX separators)."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self.zip = None
            names = []
            for folder, _, files in os.walk(path):
                rel = Path(folder).relative_to(path).as_posix()
                names += [name if rel == "." else f"{rel}/{name}" for name in files]
        elif path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise MotionmagError(f"{path}: not a readable zip ({error})") from None
            names = [info.filename for info in self.zip.infolist() if not info.is_dir()]
        else:
            raise MotionmagError(f"{path}: no such folder or zip (Axial-MM's generic_evaluation_data)")
        self.names = names

    def read(self, name: str) -> bytes:
        try:
            if self.zip is not None:
                return self.zip.read(name)
            return (self.path / name).read_bytes()
        except (OSError, KeyError, zipfile.BadZipFile, EOFError) as error:  # zlib errors are zipfile's
            raise MotionmagError(f"{self.path}: cannot read {name} ({error})") from None

    def close(self):
        if self.zip is not None:
            self.zip.close()


def _mode_files(source: _Source) -> tuple[str, dict[tuple[str, str], dict[str, list[str]]]]:
    """The set's root inside ``source`` (a prefix) and, per (folder, mode), the sorted names of
    each frame kind, as ``sorted(glob('*A.png'))`` finds them (hidden files and macOS'
    ``__MACOSX/`` copies left out)."""
    found: dict[str, dict[tuple[str, str], dict[str, list[str]]]] = {}
    for name in source.names:
        m = _MEMBER.match(name)
        if m is None or name.startswith("__MACOSX/") or m["name"].startswith("."):
            continue
        frame = next((k for k in _FRAMES if m["name"].endswith(f"{k}.png")), None)
        if frame is None:
            continue
        by_mode = found.setdefault(m["prefix"], {})
        by_mode.setdefault((m["folder"], m["mode"]), {k: [] for k in _FRAMES})[frame].append(name)
    if not found:
        raise MotionmagError(f"{source.path}: no Axial-MM evaluation set in it (expected {LAYOUT})")
    if len(found) > 1:
        raise MotionmagError(f"{source.path}: holds several evaluation sets (under {', '.join(sorted(repr(p) for p in found))}); "
                             "give the one to read")
    prefix, by_mode = next(iter(found.items()))
    for lists in by_mode.values():
        for names in lists.values():
            names.sort()
    return prefix, by_mode


def _decode_png(data: bytes, where: str) -> np.ndarray:
    """An RGB uint8 (H, W, 3) frame, as generic_eval.py reads it (PIL, the first three channels)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode not in ("RGB", "RGBA"):
                if image.mode not in ("L", "LA", "P", "PA"):
                    raise MotionmagError(f"{where}: a {image.mode} PNG, not 8-bit RGB")
                image = image.convert("RGB")
            frame = np.asarray(image)[..., :3]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise MotionmagError(f"{where}: unreadable PNG ({error})") from None
    return np.ascontiguousarray(frame, np.uint8)


def _plan(source: _Source, sweeps: Sequence[str], samples_per_mode: int | None) -> tuple[str, list]:
    """(prefix, [(kind, mode index, [(A, B, Y) names]), ...]) after checking the layout."""
    prefix, by_mode = _mode_files(source)
    plan = []
    for kind in sweeps:
        if kind not in AXIAL_SWEEPS:
            raise MotionmagError(f"Axial-MM's evaluation set has sweeps {' and '.join(AXIAL_SWEEPS)}, not {kind!r}")
        folder, modes = AXIAL_SWEEPS[kind]
        for k in range(modes):
            mode = f"mode{k:02d}"
            where = f"{source.path}: {prefix}{folder}/{mode}"
            lists = by_mode.get((folder, mode))
            if lists is None:
                raise MotionmagError(f"{where} is missing or holds no *A.png/*B.png/*Y.png (expected {LAYOUT})")
            counts = {frame: len(names) for frame, names in lists.items()}
            if len(set(counts.values())) != 1:
                raise MotionmagError(f"{where}: unequal counts of frames "
                                     f"({', '.join(f'{n} *{frame}.png' for frame, n in counts.items())})")
            count = counts["A"]
            if samples_per_mode is not None:
                if count < samples_per_mode:
                    raise MotionmagError(f"{where}: {count} samples, fewer than the {samples_per_mode} asked for")
                count = samples_per_mode
            plan.append((kind, k, list(zip(*(lists[frame][:count] for frame in _FRAMES)))))
    return prefix, plan


def _samples(source: _Source, prefix: str, plan: list) -> Iterator[tuple[dict[str, np.ndarray], float, dict]]:
    for kind, k, triplets in plan:
        level = float(axial_levels(kind)[k])
        alpha = axial_alpha(kind, level)
        motion = level if kind == "subpixel" else AXIAL_NOISE_MOTION
        for i, names in enumerate(triplets):
            a, b, y = (_decode_png(source.read(name), f"{source.path}: {name}") for name in names)
            if not a.shape == b.shape == y.shape:
                raise MotionmagError(f"{source.path}: {names[0]}, {names[1]} and {names[2]} differ in size "
                                     f"({a.shape[1]}x{a.shape[0]}, {b.shape[1]}x{b.shape[0]}, {y.shape[1]}x{y.shape[0]})")
            meta = dict(dataset="axial-eval", sweep=kind, level=level, level_index=k, index=i, motion=motion,
                        noise=0.0 if kind == "subpixel" else level, source=names[0][len(prefix):],
                        files=[name[len(prefix):] for name in names])
            yield dict(frame_a=a, frame_b=b, frame_c=b, amplified=y), alpha, meta


def import_axial_eval(root_or_zip: str | Path, out_h5: str | Path, samples_per_mode: int | None = None,
                      progress: bool = False, sweeps: Sequence[str] = ("subpixel", "noise"),
                      encoding: str = "webp") -> int:
    """Axial-MM's evaluation set (the extracted folder, or ``generic_evaluation_data.zip`` read in
    place) -> one synthetic sample file ``out_h5``, written atomically; returns the sample count.

    ``sweeps``: which of subpixel (15 modes) and noise (21 modes) to take, in that order; every mode
    folder of each must be there. ``samples_per_mode``: the first N of each mode by sorted name
    (generic_eval.py scores the first 1,000), else all. Samples: frame_a = A, frame_b = frame_c = B,
    amplified = Y, alpha per :func:`axial_alpha`; meta ``sweep``, ``level`` (motion in px, or the
    noise factor), ``level_index`` (the mode), ``motion``, ``noise``, ``source`` (A's path in the set)
    and ``files``. A malformed layout (a mode folder missing, unequal A/B/Y counts, an unreadable
    PNG, frames of different sizes) is a one-line :class:`MotionmagError`.
    """
    from tqdm import tqdm

    from motionmag.synth.samples import write_synthetic_set

    if samples_per_mode is not None and (isinstance(samples_per_mode, bool) or not isinstance(samples_per_mode, numbers.Integral)
                                         or samples_per_mode < 1):
        raise MotionmagError(f"samples_per_mode must be a whole number >= 1, got {samples_per_mode!r}")
    sweeps = [sweeps] if isinstance(sweeps, str) else list(sweeps)
    if not sweeps or len(set(sweeps)) != len(sweeps):
        raise MotionmagError(f"sweeps must name subpixel and/or noise once each, got {sweeps!r}")
    source = _Source(Path(root_or_zip))
    try:
        prefix, plan = _plan(source, sweeps, samples_per_mode)
        total = sum(len(triplets) for *_, triplets in plan)
        attrs = dict(dataset="axial-eval", source=str(root_or_zip), root=prefix, sweeps=sweeps,
                     samples_per_mode=samples_per_mode, protocol="axial",
                     levels={kind: axial_levels(kind).tolist() for kind in sweeps},
                     alphas={kind: [axial_alpha(kind, float(level)) for level in axial_levels(kind)] for kind in sweeps})
        samples = tqdm(_samples(source, prefix, plan), total=total, disable=not progress, desc="axial-eval")
        return write_synthetic_set(out_h5, samples, encoding=encoding, attrs=attrs)
    finally:
        source.close()
