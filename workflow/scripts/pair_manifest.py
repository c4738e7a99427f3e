import sys

sys.stderr = open(snakemake.log[0], "w")

from collections import defaultdict

from motionmag.data.pair_build import name_pairs, read_table
from motionmag.data.pairs import write_pair_manifest

s = snakemake.params.settings
tables = defaultdict(list)
for path in snakemake.input.kept:
    tables[path.split("/")[-2]].append(read_table(path, ["key_a", "key_b", "kept"]))
named = name_pairs(tables)
# rows of the manifest CSV point into the shards in the manifest's order
order = {p: k for k, p in enumerate(snakemake.input.pairs)}
named["shard"] = [order[f"results/pairs/{snakemake.wildcards.pairset}/shards/{sub}/{k}.h5"]
                  for sub, k in zip(named.subset, named.shard)]
manifest = write_pair_manifest(snakemake.output.manifest, snakemake.input.pairs,
                               dict(recipe="flowmag", **{k: s[k] for k in ("split", "subsets", "selection", "flow", "flow_size", "filter", "short_side", "encoding")}))
named.to_csv(snakemake.output.table, index=False)
counts = named.groupby("subset").size().to_dict()
print(f"{manifest['pairs']} pairs, {manifest['bytes'] / 1e9:.2f} GB; by subset: {counts}", file=sys.stderr)
