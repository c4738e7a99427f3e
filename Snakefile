# motionmag: motion magnification from raw data to paper tables.
#
#   snakemake --cores 2                        # the offline demo (config/config.yaml)
#   snakemake --report results/report.html     # tables, plots and videos in one page
#   snakemake --profile profiles/slurm --configfile config/paper.yaml


from snakemake.utils import min_version

min_version("9.0.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/clips.smk"
include: "workflow/rules/magnify.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
