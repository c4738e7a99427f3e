import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.report.tables import describe_table, table_html

title, note = describe_table(snakemake.wildcards.table)
table_html(snakemake.input[0], snakemake.output[0], title, note)
