# motionmag: motion magnification from raw data to paper tables.
#
#   snakemake --cores 2                        # the offline demo (config/config.yaml)
#   snakemake --report results/report.html     # tables, plots and videos in one page
#   snakemake --profile profiles/slurm --configfile config/paper.yaml


import re

from snakemake.utils import min_version

min_version("9.0.0")


# config/config.yaml (the offline demo) is the default; a --configfile replaces it rather than being
# merged into it, so config/paper.yaml never inherits the demo's clips, methods or sets
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# names cannot smuggle paths: each wildcard matches only configured names
wildcard_constraints:
    clip=one_of(list(PLAN.clips)),
    method=one_of(PLAN.methods),
    flow=one_of(PLAN.flows),
    alpha=r"[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?",
    weights_file=one_of([re.escape(f) for f in PLAN.weight_files.values()]),
    pairset=one_of(list(PLAN.pair_sets)),
    synthset=one_of(list(PLAN.synth_sets)),
    shard=r"0|[1-9][0-9]*",
    variant=one_of(sorted({v for variants in PLAN.variants.values() for v in variants})),
    dataset_file=one_of([re.escape(f) for f in PLAN.dataset_files.values()]),
    archive_entry=one_of([re.escape(n) for n in PLAN.dataset_files]),
    dataset=one_of(sorted({layout.dataset for layout in LAYOUTS.values()})),
    split="train|test",
    subset=one_of(list(SUBSETS)),
    pairbench=one_of(list(PLAN.pair_benchmarks)),
    sweep=one_of(PLAN.sweeps),
    group=one_of(PLAN.groups),
    metric=r"[a-z_]+",


include: "workflow/rules/clips.smk"
include: "workflow/rules/pairs.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/magnify.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/weights.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"


rule all:
    default_target: True
    input:
        PLAN.final_outputs(),
