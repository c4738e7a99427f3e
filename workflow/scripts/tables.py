import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.tables import tables

tables(
    cells=list(snakemake.input),
    alphas=snakemake.params.alphas,
    groups=snakemake.params.groups,
    cells_csv=snakemake.output.cells,
    tables_dir=snakemake.params.tables_dir,
    stems=snakemake.params.stems,
    html=list(snakemake.output.html),
    plots=snakemake.params.plots,
    plot_files=list(snakemake.output.plots),
)
