import sys

sys.stderr = open(snakemake.log[0], "w")

import json
from pathlib import Path

from motionmag.data.downloads import DatasetStore
from motionmag.data.kinetics import YouTubeFallback, read_kinetics_times, rebuild_uvo

settings = snakemake.params.settings
store = DatasetStore(snakemake.params.manifest, Path(snakemake.output[0]).parents[1])  # DIR/uvo/clips.tsv
ids = sorted({v["ytid"] for key in ("train", "test") for v in json.loads(Path(snakemake.input[key]).read_text())["videos"]})
part_urls = [line.strip() for line in Path(snakemake.input.parts).read_text().splitlines() if line.strip()]
fallback = None
if settings["youtube_fallback"]:
    fallback = YouTubeFallback(url=settings["youtube_url"])
times = read_kinetics_times(Path(snakemake.input.times[0])) if snakemake.input.times else None
log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
summary = rebuild_uvo(ids, part_urls, store, Path(snakemake.output[0]).parent / "uvo_videos_dense", snakemake.output[0],
                      times, fallback, settings["min_available"], log)
print(summary, file=sys.stderr)
