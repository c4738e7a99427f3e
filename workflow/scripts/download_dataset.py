import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.downloads import download_dataset

download_dataset(
    manifest=snakemake.params.manifest,
    datasets_dir=snakemake.params.datasets_dir,
    entry=snakemake.params.entry,
    manual_dir=snakemake.params.manual_dir,
)
