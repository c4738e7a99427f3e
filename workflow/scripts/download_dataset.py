import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.data.archives import DatasetStore

store = DatasetStore(snakemake.params.manifest, Path(snakemake.output[0]).parent)
entry = store.entry(snakemake.params.entry)
print(f"{entry.name}: licence: {entry.licence}", file=sys.stderr)
path = store.fetch(entry.name, progress=False)
print(f"{entry.name}: {path} verified", file=sys.stderr)
