import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.synth.sources import build_index, write_index

source = dict(snakemake.params.source)
write_index(build_index(source.pop("kind"), **source), snakemake.output[0])
