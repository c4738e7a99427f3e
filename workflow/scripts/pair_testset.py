import sys

sys.stderr = open(snakemake.log[0], "w")

from collections import defaultdict
from pathlib import Path

import pandas as pd

from motionmag.data.flowstats import STAT_COLUMNS, PairFilter
from motionmag.data.pair_build import TEST_COUNTS, kept_pairs, read_table, sample_test_split, select
from motionmag.data.pairs import write_pair_set
from motionmag.data.sources import CANDIDATE_COLUMNS, SUBSETS, read_index

s = snakemake.params.settings
shards = defaultdict(list)
for path in snakemake.input.stats:
    shards[Path(path).parent.name].append(read_table(path, CANDIDATE_COLUMNS + STAT_COLUMNS))
tables = {}
for subset, parts in shards.items():
    tables[subset] = pd.concat(parts, ignore_index=True)
    tables[subset]["kept"] = select(tables[subset], PairFilter(**s["filter"]))
counts = {k: v for k, v in {**TEST_COUNTS, **s.get("test_counts", {})}.items() if k in tables}
picked = sample_test_split(tables, counts, s["seed"])


def frames():
    for subset, rows in picked.groupby("subset", sort=False):
        videos = read_index(f"results/datasets/frames/{SUBSETS[subset][0]}_test.json")
        yield from kept_pairs(videos, rows, s["short_side"])


write_pair_set(snakemake.output.pairs, frames(), s["encoding"])
picked.to_csv(snakemake.output.table, index=False)
print(f"test split: {len(picked)} pairs, seed {s['seed']}: {picked.groupby('subset').size().to_dict()}", file=sys.stderr)
