import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.pipeline import make_sweep_plot, make_sweep_table
from motionmag.report.tables import describe_table, table_html

stem = Path(snakemake.output.html).with_suffix("")
make_sweep_table(list(snakemake.input), stem)
table_html(f"{stem}.csv", snakemake.output.html, *describe_table(f"{snakemake.wildcards.sweep}/ssim"))
make_sweep_plot(list(snakemake.input), snakemake.output.plot)
