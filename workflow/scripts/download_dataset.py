import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.data.downloads import DatasetStore
from motionmag.errors import MotionmagError

store = DatasetStore(snakemake.params.manifest, Path(snakemake.output[0]).parent, snakemake.params.manual_dir)
entry = store.entry(snakemake.params.entry)
# shown once: on the terminal the first time the file is fetched, and in the log
for stream in (sys.stdout, sys.stderr):
    print(f"{entry.name}: {entry.source}. Licence: {entry.licence}", file=stream, flush=True)
try:
    path = store.fetch(entry.name, progress=False)
except MotionmagError as err:
    print(err, file=sys.stderr)
    raise SystemExit(f"download_dataset: {err}")
print(f"{entry.name}: {path} verified", file=sys.stderr)
