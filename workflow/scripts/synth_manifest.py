import hashlib
import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.data.synthetic import write_manifest
from motionmag.synth.generate import load_recipe, set_settings

settings = set_settings(dict(snakemake.params.settings), snakemake.wildcards.synthset)
settings["recipe"] = load_recipe(settings["recipe"])
with open(snakemake.input.index, "rb") as index:
    settings["source_index_sha256"] = hashlib.sha256(index.read()).hexdigest()
manifest = write_manifest(snakemake.output[0], list(snakemake.input.shards), settings)
print(f"{manifest['samples']} samples, {manifest['bytes']} bytes", file=sys.stderr)
