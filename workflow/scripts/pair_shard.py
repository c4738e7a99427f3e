import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.data.flowstats import STAT_COLUMNS, PairFilter
from motionmag.data.pair_build import included_keys, kept_pairs, read_table, select
from motionmag.data.pairs import write_pair_set
from motionmag.data.sources import CANDIDATE_COLUMNS, read_index, shard_range

s = snakemake.params.settings
subset, shard = snakemake.wildcards.subset, int(snakemake.wildcards.shard)
if s["selection"] == "included":  # the authors' kept list: no flow statistics needed
    table = read_table(snakemake.input.candidates, CANDIDATE_COLUMNS)
    table = table.iloc[list(shard_range(len(table), s["shards"][subset], shard))].copy()
    table["kept"] = select(table, included=included_keys(snakemake.input.included, subset))
else:
    table = read_table(snakemake.input.stats, CANDIDATE_COLUMNS + STAT_COLUMNS)
    table["kept"] = select(table, PairFilter(**s["filter"]))
kept = table[table.kept]
n = write_pair_set(snakemake.output.pairs, kept_pairs(read_index(snakemake.input.index), kept, s["short_side"]),
                   s["encoding"], allow_empty=True)
table.to_csv(snakemake.output.kept, index=False)
print(f"{subset} shard {shard}: kept {n} of {len(table)} pairs ({s['selection']})", file=sys.stderr)
