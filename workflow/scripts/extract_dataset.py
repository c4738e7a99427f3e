import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.data.archives import extract_archive
from motionmag.data.downloads import DatasetStore

store = DatasetStore(snakemake.params.manifest, Path(snakemake.input[0]).parent)
entry = store.entry(snakemake.params.entry)
store.require(entry.name)  # verified again: a file placed or replaced by hand is checked too
if not entry.archive:
    raise SystemExit(f"extract_dataset: {entry.name} is a plain {entry.format} file, not an archive")
record = extract_archive(snakemake.input[0], snakemake.output[0], entry.format)
print(f"{entry.name}: {record['files']} files, {record['bytes']} bytes", file=sys.stderr)
