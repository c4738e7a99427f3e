import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.downloads import extract_dataset

extract_dataset(
    manifest=snakemake.params.manifest,
    datasets_dir=snakemake.params.datasets_dir,
    entry=snakemake.params.entry,
    archive=snakemake.input[0],
    out=snakemake.output[0],
)
