import sys

sys.stderr = open(snakemake.log[0], "w")

from motionmag.io.images import write_image
from motionmag.synth.preview import contact_sheet, samples_from_set

write_image(snakemake.output[0], contact_sheet(samples_from_set(snakemake.input[0], count=8)))
