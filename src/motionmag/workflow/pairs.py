"""Stage ``pairs``: frame-pair sets made from the demo clips, read from a released archive, or
built from the real datasets by FlowMag's recipe (docs/datasets.md#flowmags-data-recipe).

Rules: ``demo_pairs``, ``released_pairs``, ``frame_index``, ``pair_candidates``, ``pair_stats``,
``pair_shard``, ``pair_manifest``, ``pair_testset``. Only ``pair_stats`` runs a network, but every
step here loads torch: motionmag.data.pairs imports it at module level (its PairSet is a torch
Dataset), and motionmag.data.video_index and .pair_build import motionmag.data.pairs.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from motionmag.workflow.common import log, set_threads


def demo_pairs(clips: dict[str, str | Path], spacings: list[int], out: str | Path) -> int:
    """Pairs from the demo clips' frame folders (clip name -> folder), every spacing of ``spacings``."""
    from motionmag.data.pairs import demo_pairs as pairs_of_clips
    from motionmag.data.pairs import write_pair_set

    count = write_pair_set(out, pairs_of_clips(dict(clips), spacings))
    log(f"{count} pairs -> {out}")
    return count


def released_pairs(archive: str | Path, out: str | Path) -> int:
    """A released test split (FlowMag's zip) as a pair file."""
    from motionmag.data.archives import released_pairs as pairs_in_archive
    from motionmag.data.pairs import write_pair_set

    count = write_pair_set(out, pairs_in_archive(archive))
    log(f"{count} pairs -> {out}")
    return count


def frame_index(layout, root: str | Path, lists: dict[str, str | Path], out: str | Path) -> None:
    """Every video of a dataset split (``layout``, a motionmag.data.video_index.Layout) and its
    frames, from the folder ``root`` it lies in; ``lists``: manifest entry -> file, for the
    layouts that list their videos elsewhere (UVO's dense jsons)."""
    from motionmag.data.video_index import index_videos, write_index

    videos = index_videos(layout, root, dict(lists))
    write_index(videos, out, dict(dataset=layout.dataset, split=layout.split, archive=layout.archive))
    log(f"{layout.dataset} {layout.split}: {len(videos)} videos, {sum(map(len, videos))} frames")


def pair_candidates(index: str | Path, spacing: int, out: str | Path) -> int:
    """Every candidate pair (frames ``spacing`` apart) of a frame index, as a CSV."""
    import pandas as pd

    from motionmag.data.video_index import CANDIDATE_COLUMNS, candidates, read_index

    videos = read_index(index)
    table = pd.DataFrame(list(candidates(videos, spacing)), columns=CANDIDATE_COLUMNS)
    table.to_csv(out, index=False)
    log(f"{len(table)} candidate pairs (s = {spacing}) from {len(videos)} videos")
    return len(table)


def pair_stats(index: str | Path, candidates: str | Path, settings: dict, subset: str, shard: int,
               out: str | Path, device: str = "cpu", threads: int | None = None) -> None:
    """The motion statistics of one shard of a subset's candidates (``settings``: flow, flow_size,
    batch_size, num_workers, amp and ``shards``, the subset's shard count). A CUDA device falls
    back to the CPU where there is none."""
    import torch

    from motionmag.data.flowstats import STAT_COLUMNS, CandidateFrames, pair_statistics
    from motionmag.data.pair_build import read_table
    from motionmag.data.video_index import CANDIDATE_COLUMNS, read_index, shard_range
    from motionmag.flow import get_flow_model

    set_threads(threads)
    table = read_table(candidates, CANDIDATE_COLUMNS)
    rows = table.iloc[list(shard_range(len(table), settings["shards"], shard))].copy()
    device = device if torch.cuda.is_available() or device == "cpu" else "cpu"
    model = get_flow_model(settings["flow"], device, preset="eval", amp=settings["amp"])
    frames = CandidateFrames(read_index(index), rows.to_dict("records"), settings["flow_size"])
    rows[STAT_COLUMNS] = pair_statistics(model, frames, settings["batch_size"], settings["num_workers"], device,
                                         progress=False)
    rows.to_csv(out, index=False)
    log(f"{subset} shard {shard}: {len(rows)} pairs measured with {settings['flow']} at "
        f"{settings['flow_size']}^2 on {device}")


def pair_shard(index: str | Path, candidates: str | Path, settings: dict, subset: str, shard: int,
               out_pairs: str | Path, out_kept: str | Path, stats: str | Path | None = None,
               included: str | Path | None = None) -> int:
    """One shard of a built training set: its candidates selected by the statistics
    (``selection: filter``, ``stats``) or by the authors' kept list (``included``), and the kept
    pairs written; ``out_kept``: the shard's table with a ``kept`` column."""
    from motionmag.data.flowstats import STAT_COLUMNS, PairFilter
    from motionmag.data.pair_build import included_keys, kept_pairs, read_table, select
    from motionmag.data.pairs import write_pair_set
    from motionmag.data.video_index import CANDIDATE_COLUMNS, read_index, shard_range

    if settings["selection"] == "included":  # the authors' kept list: no flow statistics needed
        table = read_table(candidates, CANDIDATE_COLUMNS)
        table = table.iloc[list(shard_range(len(table), settings["shards"][subset], shard))].copy()
        table["kept"] = select(table, included=included_keys(included, subset))
    else:
        table = read_table(stats, CANDIDATE_COLUMNS + STAT_COLUMNS)
        table["kept"] = select(table, PairFilter(**settings["filter"]))
    kept = table[table.kept]
    count = write_pair_set(out_pairs, kept_pairs(read_index(index), kept, settings["short_side"]),
                           settings["encoding"], allow_empty=True)
    table.to_csv(out_kept, index=False)
    log(f"{subset} shard {shard}: kept {count} of {len(table)} pairs ({settings['selection']})")
    return count


MANIFEST_KEYS = ("split", "subsets", "selection", "flow", "flow_size", "filter", "short_side", "encoding")


def pair_manifest(pairs: list[str | Path], kept: list[str | Path], subsets: list[str], settings: dict,
                  manifest: str | Path, table: str | Path) -> dict:
    """A built training set's manifest of shards and its table of named pairs. ``pairs``, ``kept``
    and ``subsets`` are parallel: shard k's pair file, kept table and subset, each subset's shards
    in shard order; a named pair's ``shard`` column is its pair file's position in ``pairs``."""
    from motionmag.data.pair_build import name_pairs, read_table
    from motionmag.data.pairs import write_pair_manifest

    if not len(pairs) == len(kept) == len(subsets):
        raise ValueError(f"pair_manifest: {len(pairs)} pair files, {len(kept)} tables, {len(subsets)} subsets")
    tables, position = defaultdict(list), {}
    for k, (subset, path) in enumerate(zip(subsets, kept)):
        position[subset, len(tables[subset])] = k
        tables[subset].append(read_table(path, ["key_a", "key_b", "kept"]))
    named = name_pairs(tables)
    named["shard"] = [position[subset, k] for subset, k in zip(named.subset, named.shard)]
    written = write_pair_manifest(manifest, list(pairs), dict(recipe="flowmag", **{k: settings[k] for k in MANIFEST_KEYS}))
    named.to_csv(table, index=False)
    counts = named.groupby("subset").size().to_dict()
    log(f"{written['pairs']} pairs, {written['bytes'] / 1e9:.2f} GB; by subset: {counts}")
    return written


def pair_testset(stats: list[str | Path], subsets: list[str], indexes: dict[str, str | Path], settings: dict,
                 out_pairs: str | Path, out_table: str | Path) -> int:
    """A built test split: the statistics shards (``stats``, with their ``subsets`` in parallel)
    filtered, the test counts sampled with the set's seed, the pairs read from each subset's
    frame index (``indexes``: subset -> index) and written."""
    import pandas as pd

    from motionmag.data.flowstats import STAT_COLUMNS, PairFilter
    from motionmag.data.pair_build import TEST_COUNTS, kept_pairs, read_table, sample_test_split, select
    from motionmag.data.pairs import write_pair_set
    from motionmag.data.video_index import CANDIDATE_COLUMNS, read_index

    if len(stats) != len(subsets):
        raise ValueError(f"pair_testset: {len(stats)} statistics files, {len(subsets)} subsets")
    shards = defaultdict(list)
    for subset, path in zip(subsets, stats):
        shards[subset].append(read_table(path, CANDIDATE_COLUMNS + STAT_COLUMNS))
    tables = {}
    for subset, parts in shards.items():
        tables[subset] = pd.concat(parts, ignore_index=True)
        tables[subset]["kept"] = select(tables[subset], PairFilter(**settings["filter"]))
    counts = {k: v for k, v in {**TEST_COUNTS, **settings.get("test_counts", {})}.items() if k in tables}
    picked = sample_test_split(tables, counts, settings["seed"])

    def frames():
        for subset, rows in picked.groupby("subset", sort=False):
            yield from kept_pairs(read_index(indexes[subset]), rows, settings["short_side"])

    write_pair_set(out_pairs, frames(), settings["encoding"])
    picked.to_csv(out_table, index=False)
    log(f"test split: {len(picked)} pairs, seed {settings['seed']}: {picked.groupby('subset').size().to_dict()}")
    return len(picked)
