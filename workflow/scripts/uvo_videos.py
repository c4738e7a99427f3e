import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.workflow.downloads import uvo_videos

uvo_videos(
    manifest=snakemake.params.manifest,
    datasets_dir=snakemake.params.datasets_dir,
    train=snakemake.input.train,
    test=snakemake.input.test,
    parts=snakemake.input.parts,
    settings=snakemake.params.settings,
    videos_dir=snakemake.params.videos_dir,
    out=snakemake.output[0],
    times=snakemake.input.times,
)
