import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.downloads import download_weights

download_weights(manifest=snakemake.params.manifest, weights_dir=snakemake.params.weights_dir, model=snakemake.params.model)
