import sys

sys.stderr = open(snakemake.log[0], "w")

import torch

from motionmag.data.flowstats import CandidateFrames, pair_statistics, STAT_COLUMNS
from motionmag.data.pair_build import read_table
from motionmag.data.sources import CANDIDATE_COLUMNS, read_index, shard_range
from motionmag.flow import get_flow_model

s = snakemake.params.settings
subset, shard = snakemake.wildcards.subset, int(snakemake.wildcards.shard)
torch.set_num_threads(snakemake.threads)
table = read_table(snakemake.input.candidates, CANDIDATE_COLUMNS)
rows = table.iloc[list(shard_range(len(table), s["shards"], shard))].copy()
device = snakemake.params.device if torch.cuda.is_available() or snakemake.params.device == "cpu" else "cpu"
model = get_flow_model(s["flow"], device, preset="eval", amp=s["amp"])
frames = CandidateFrames(read_index(snakemake.input.index), rows.to_dict("records"), s["flow_size"])
stats = pair_statistics(model, frames, s["batch_size"], s["num_workers"], device, progress=False)
rows[STAT_COLUMNS] = stats
rows.to_csv(snakemake.output[0], index=False)
print(f"{subset} shard {shard}: {len(rows)} pairs measured with {s['flow']} at {s['flow_size']}^2 on {device}", file=sys.stderr)
