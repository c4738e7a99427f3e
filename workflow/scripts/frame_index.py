import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.pairs import frame_index

frame_index(
    layout=snakemake.params.layout,
    root=snakemake.params.root,
    lists={name: snakemake.input[name] for name in snakemake.params.layout.lists},
    out=snakemake.output[0],
)
