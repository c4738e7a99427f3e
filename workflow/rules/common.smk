# The plan (src/motionmag/workflow/plan.py): the config validated against the schema, which fills
# every default; the cross-checks; the names each stage fans out over; launchers; final outputs.
# Input functions live beside the rules that use them.

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

from motionmag.data.video_index import LAYOUTS, SUBSETS
from motionmag.errors import MotionmagError
from motionmag.workflow.plan import Plan

try:
    PLAN = Plan(config, workflow.basedir)
except MotionmagError as err:
    raise WorkflowError(str(err)) from None
for name in PLAN.skipped:
    logger.warning(
        f"clip {name}: {config['clips'][name]['path']} not found, skipped (optional)"
    )


def one_of(names):
    """A wildcard regex matching exactly these names (and nothing when the list is empty)."""
    return "|".join(names) if names else "(?!x)x"


def mem_mb(base):
    """Memory that grows with each cluster-level retry (profile `retries:`)."""
    return lambda wildcards, attempt: base * attempt


def method_checkpoint(wildcards):
    return PLAN.method_checkpoint(wildcards.method)


def gpu_if_learned(wildcards):
    """One GPU for a learned method's job, none for the classical ones."""
    return int(PLAN.learned(wildcards.method))


def all_flow_weights(wildcards):
    """The checkpoints the evaluation flow models need (none for the weight-free ones)."""
    return [PLAN.weight_paths[flow] for flow in PLAN.flows if flow in PLAN.weight_paths]


# alpha is not a wildcard: one job covers every alpha (as floats for the scripts)
ALPHAS = [float(alpha) for alpha in PLAN.alphas]


def per_alpha(pattern):
    """One path per alpha, the other wildcards kept."""
    return expand(pattern, alpha=PLAN.alphas, allow_missing=True)


def cells(benchmark):
    """A benchmark x method job's result cells, alpha by alpha, each in the flow models' order."""
    return [
        f"results/eval/{{{benchmark}}}/{{method}}/{flow}/x{alpha}.csv"
        for alpha in PLAN.alphas
        for flow in PLAN.flows
    ]
