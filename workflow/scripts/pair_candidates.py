import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from motionmag.data.sources import CANDIDATE_COLUMNS, candidates, read_index

videos = read_index(snakemake.input[0])
table = pd.DataFrame(list(candidates(videos, snakemake.params.spacing)), columns=CANDIDATE_COLUMNS)
table.to_csv(snakemake.output[0], index=False)
print(f"{len(table)} candidate pairs (s = {snakemake.params.spacing}) from {len(videos)} videos", file=sys.stderr)
