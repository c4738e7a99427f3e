import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.report.tables import table_html

table_html(snakemake.input[0], snakemake.output[0], snakemake.wildcards.metric, float(snakemake.wildcards.alpha))
