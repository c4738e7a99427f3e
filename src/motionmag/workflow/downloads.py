"""Stage ``downloads``: pretrained flow weights and the real datasets, each file downloaded
(resumed, sha256-checked or pinned on first download) or taken from the manual folder; archives
unpacked all-or-nothing; UVO's videos rebuilt from Kinetics-400.

Rules: ``download_weights``, ``download_dataset``, ``extract_dataset``, ``uvo_videos``. The dataset
steps do not load torch; ``download_weights`` does, as motionmag.flow (the package of its
WeightsStore) imports its models at package level.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from motionmag.workflow.common import log


def download_weights(manifest: str | Path, weights_dir: str | Path, model: str) -> Path:
    """A flow model's checkpoint into ``weights_dir``, verified."""
    from motionmag.flow.weights import WeightsStore

    path = WeightsStore(manifest, weights_dir).fetch(model, progress=False)
    log(f"{model}: {path} verified")
    return path


def download_dataset(manifest: str | Path, datasets_dir: str | Path, entry: str,
                     manual_dir: str | Path | None = None) -> Path:
    """A datasets-manifest entry into ``datasets_dir`` (from ``manual_dir`` where a person
    fetches it), verified; its source and licence shown on stdout and in the log."""
    from motionmag.data.downloads import DatasetStore
    from motionmag.errors import MotionmagError

    store = DatasetStore(manifest, datasets_dir, manual_dir)
    item = store.entry(entry)
    # shown once: on the terminal the first time the file is fetched, and in the log
    for stream in (sys.stdout, sys.stderr):
        print(f"{item.name}: {item.source}. Licence: {item.licence}", file=stream, flush=True)
    try:
        path = store.fetch(item.name, progress=False)
    except MotionmagError as err:
        log(str(err))
        raise SystemExit(f"download_dataset: {err}")
    log(f"{item.name}: {path} verified")
    return path


def extract_dataset(manifest: str | Path, datasets_dir: str | Path, entry: str, archive: str | Path,
                    out: str | Path) -> dict:
    """An archive entry, verified again (a file placed or replaced by hand is checked too),
    unpacked into ``out`` all-or-nothing."""
    from motionmag.data.archives import extract_archive
    from motionmag.data.downloads import DatasetStore

    store = DatasetStore(manifest, datasets_dir)
    item = store.entry(entry)
    store.require(item.name)
    if not item.archive:
        raise SystemExit(f"extract_dataset: {item.name} is a plain {item.format} file, not an archive")
    record = extract_archive(archive, out, item.format)
    log(f"{item.name}: {record['files']} files, {record['bytes']} bytes")
    return record


def uvo_videos(manifest: str | Path, datasets_dir: str | Path, train: str | Path, test: str | Path,
               parts: str | Path, settings: dict, videos_dir: str | Path, out: str | Path,
               times: str | Path | list | None = None) -> str:
    """Every UVO video (the ids in the dense ``train`` and ``test`` jsons) rebuilt into
    ``videos_dir`` from the Kinetics-400 val parts listed in ``parts`` (downloaded into
    ``datasets_dir``), then, with ``settings['youtube_fallback']``, from YouTube (``times``:
    Kinetics' clip times, a file or a list of none or one); ``out``: the per-clip manifest."""
    from motionmag.data.downloads import DatasetStore
    from motionmag.data.kinetics import YouTubeFallback, read_kinetics_times, rebuild_uvo

    store = DatasetStore(manifest, datasets_dir)
    ids = sorted({v["ytid"] for listing in (train, test) for v in json.loads(Path(listing).read_text())["videos"]})
    part_urls = [line.strip() for line in Path(parts).read_text().splitlines() if line.strip()]
    fallback = YouTubeFallback(url=settings["youtube_url"]) if settings["youtube_fallback"] else None
    if isinstance(times, (list, tuple)):  # the rule's input: [csv] with the fallback, else []
        times = times[0] if times else None
    clip_times = read_kinetics_times(Path(times)) if times else None
    summary = rebuild_uvo(ids, part_urls, store, Path(videos_dir), out, clip_times, fallback,
                          settings["min_available"], log)
    log(summary)
    return summary
