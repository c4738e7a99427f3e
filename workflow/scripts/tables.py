import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.pipeline import make_plot, make_tables
from motionmag.report.tables import describe_table, table_html

tables_dir = Path(snakemake.output.cells).parent
make_tables(list(snakemake.input), snakemake.params.alphas, snakemake.params.groups, snakemake.output.cells, tables_dir)
for html in snakemake.output.html:
    stem = str(Path(html).relative_to(tables_dir).with_suffix(""))
    table_html(tables_dir / f"{stem}.csv", html, *describe_table(stem))
for png in snakemake.output.plots:  # results/plots/<group>/<metric>_vs_alpha.png
    group, metric = Path(png).parent.name, Path(png).name.removesuffix("_vs_alpha.png")
    make_plot(snakemake.output.cells, group, metric, png)
