import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.flow.weights import WeightsStore

store = WeightsStore(snakemake.params.manifest, Path(snakemake.output[0]).parent)
path = store.fetch(snakemake.params.model, progress=False)
print(f"{snakemake.params.model}: {path} verified", file=sys.stderr)
