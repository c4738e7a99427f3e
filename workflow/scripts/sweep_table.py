import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.tables import sweep_table

sweep_table(
    cells=list(snakemake.input),
    stem=snakemake.params.stem,
    name=snakemake.params.name,
    html=snakemake.output.html,
    plot=snakemake.output.plot,
)
