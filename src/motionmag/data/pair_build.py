"""FlowMag's frame-pair set from the frame indexes: candidates, selection, shards, manifest, and
the test split (docs/datasets.md#flowmags-data-recipe).

A pair is selected by FlowMag's filter on its motion statistics, or, to rebuild the authors'
exact set without a GPU, by membership in their ``train_included.json``. Kept frames are resized
to a short side of 512 (the step ``collect_trainset_from_json`` forgot) and written to HDF5
shards; the manifest CSV has every kept pair's name, keys and statistics.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from PIL import Image

from motionmag.data.flowstats import STAT_COLUMNS, PairFilter
from motionmag.data.video_index import CANDIDATE_COLUMNS, FrameReader, VideoFrames
from motionmag.errors import MotionmagError

# FlowMag's test split: 100 pairs from each of these, 50 per TAO source (ArgoVerse, BDD,
# Charades, LaSOT, YFCC100M) from each TAO stride, 50 from each UVO stride
TEST_COUNTS = {"youtube_vos": 100, "davis": 100, "vimeo": 100, "tao_n1": 50, "tao_n5": 50, "uvo_n1": 50, "uvo_n5": 50}
PER_SOURCE = ("tao_n1", "tao_n5")


def read_table(path: str | Path, columns: list[str]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise MotionmagError(f"{path}: not a readable CSV ({err})") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MotionmagError(f"{path}: missing columns {', '.join(missing)}")
    return table


def included_keys(path: str | Path, subset: str) -> set[tuple[str, str]]:
    """The (key_a, key_b) pairs of ``subset`` in the authors' train_included.json, whose entries
    are ``"{subset}_{idx}": {"paths": [relA, relB], ...}``."""
    try:
        included = json.loads(Path(path).read_text())
        return {tuple(sorted(info["paths"])) for key, info in included.items() if key.rsplit("_", 1)[0] == subset}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise MotionmagError(f"{path}: not FlowMag's train_included.json ({{name: {{paths: [a, b]}}}})") from None


def select(table: pd.DataFrame, pair_filter: PairFilter | None = None,
           included: set[tuple[str, str]] | None = None) -> pd.Series:
    """Which candidates are kept: by the filter on their statistics, or by the authors' list."""
    if included is not None:
        return pd.Series([(a, b) in included for a, b in zip(table.key_a, table.key_b)], index=table.index)
    return pair_filter.keep(*(table[c] for c in STAT_COLUMNS))


def resize_short_side(frame: np.ndarray, short: int) -> np.ndarray:
    """torchvision's ``Resize(short)`` on a PIL image (PIL bilinear, aspect kept), as FlowMag's
    preresize_dataset.py; ``short`` 0 keeps the frame."""
    h, w = frame.shape[:2]
    if not short or min(h, w) == short:
        return frame
    if h <= w:
        size = (int(short * w / h), short)
    else:
        size = (short, int(short * h / w))
    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))


def kept_pairs(videos: list[VideoFrames], rows: pd.DataFrame, short_side: int) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """(frame_a, frame_b, "key_a|key_b") of the given rows, resized, in order."""
    read = FrameReader(videos)
    for row in rows.itertuples():
        a, b = read(int(row.video), int(row.i)), read(int(row.video), int(row.j))
        yield resize_short_side(a, short_side), resize_short_side(b, short_side), f"{row.key_a}|{row.key_b}"


def name_pairs(tables: dict[str, list[pd.DataFrame]]) -> pd.DataFrame:
    """Kept rows of every subset's shards -> the manifest: FlowMag's names ``{subset}_{n:05d}``
    numbered in candidate order, with the shard file and row each pair is in."""
    out = []
    for subset, shards in tables.items():
        n = 0
        for shard_index, table in enumerate(shards):
            kept = table[table.kept.astype(bool)].copy()
            kept.insert(0, "name", [f"{subset}_{k:05d}" for k in range(n, n + len(kept))])
            kept.insert(1, "subset", subset)
            kept["shard"] = shard_index
            kept["row"] = range(len(kept))
            n += len(kept)
            out.append(kept)
    columns = ["name", "subset", "key_a", "key_b", *[c for c in STAT_COLUMNS], "shard", "row"]
    if not out:
        return pd.DataFrame(columns=columns)
    table = pd.concat(out, ignore_index=True)
    return table[[c for c in columns if c in table.columns]]


def sample_test_split(tables: dict[str, pd.DataFrame], counts: dict[str, int], seed: int) -> pd.DataFrame:
    """FlowMag's test split, meant as written and seeded: ``counts[subset]`` kept pairs drawn from
    that subset alone (the original drew from every dataset processed so far), TAO per source
    and for both strides (the original's duplicated 'tao_n1' key left only stride 5)."""
    rng = random.Random(seed)
    picked = []
    for subset in sorted(counts):
        if subset not in tables:
            continue
        table = tables[subset]
        kept = table[table.kept.astype(bool)]
        groups = kept.groupby(kept.key_a.str.split("/").str[3]) if subset in PER_SOURCE else [(None, kept)]
        for _, group in groups:  # TAO keys: tao/frames/val/<Source>/...
            rows = sorted(rng.sample(range(len(group)), min(counts[subset], len(group))))
            chosen = group.iloc[rows].copy()
            chosen.insert(0, "subset", subset)
            picked.append(chosen)
    if not picked:
        raise MotionmagError("the test split has no kept pair to sample from")
    table = pd.concat(picked, ignore_index=True)
    table.insert(0, "name", [f"{s}_{k:05d}" for s, k in zip(table.subset, table.groupby("subset").cumcount())])
    return table


__all__ = ["CANDIDATE_COLUMNS", "TEST_COUNTS", "included_keys", "kept_pairs", "name_pairs", "read_table",
           "resize_short_side", "sample_test_split", "select"]
