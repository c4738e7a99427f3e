# Helpers shared by every stage: config validation, the clip / method / alpha lists, paths.

import shlex
import sys
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

from motionmag.config import validate_config
from motionmag.errors import MotionmagError
from motionmag.report.tables import group_metrics, table_stems as table_stems_of
from motionmag.synth.generate import shard_count
from motionmag.data.sources import LAYOUTS, SUBSETS

try:
    validate_config(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml")
except MotionmagError as err:
    raise WorkflowError(str(err)) from None


def usable_clips():
    """Clips from the config; an optional clip whose path is missing is skipped with a warning."""
    clips = {}
    for name, clip in config["clips"].items():
        if "path" in clip and not Path(clip["path"]).exists():
            if clip.get("optional"):
                logger.warning(
                    f"clip {name}: {clip['path']} not found, skipped (optional)"
                )
                continue
            raise WorkflowError(
                f"config key clips.{name}.path: {clip['path']} does not exist (read by the import_clip step)"
            )
        clips[name] = clip
    return clips


CLIPS = usable_clips()
RENDERED = [name for name, clip in CLIPS.items() if "render" in clip]
IMPORTED = [name for name, clip in CLIPS.items() if "path" in clip]
METHODS = list(config["methods"])
ALPHAS = [f"{alpha:g}" for alpha in config["alphas"]]
FLOWS = config["evaluation"]["flows"]


def manifest_path(key, rule):
    """A download manifest's path (config key KEY.manifest): relative to the working directory,
    else to the workflow."""
    path = Path(config[key]["manifest"])
    if not path.is_absolute() and not path.exists():
        path = Path(workflow.basedir) / path
    if not path.exists():
        raise WorkflowError(
            f"config key {key}.manifest: {path} does not exist (read by {rule})"
        )
    return str(path)


def manifest_entries(manifest, key):
    """Entry name -> {file, format, ...} (the download job checks the rest of each entry)."""
    try:
        with open(manifest) as stream:
            entries = yaml.safe_load(stream)
        return {
            name: {
                "file": e["file"],
                "format": e.get("format"),
                "bundled": e.get("bundled", False),
            }
            for name, e in entries.items()
        }
    except (yaml.YAMLError, AttributeError, KeyError, TypeError) as err:
        raise WorkflowError(
            f"config key {key}.manifest: {manifest} is not a manifest of name: {{file, url, sha256, ...}} ({err})"
        ) from None


WEIGHTS_MANIFEST = manifest_path("weights", "download_weights")
DATASETS_MANIFEST = manifest_path("datasets", "download_dataset")
DATASETS_DIR = config["datasets"]["dir"]
WEIGHTS_DIR = config["weights"]["dir"]
WEIGHT_ENTRIES = manifest_entries(WEIGHTS_MANIFEST, "weights")
# downloadable files; bundled ones (made here, e.g. the released demo weights) ship in the repo
WEIGHT_FILES = {
    name: e["file"] for name, e in WEIGHT_ENTRIES.items() if not e["bundled"]
}
WEIGHT_PATHS = {
    name: (
        f"resources/release/{e['file']}"
        if e["bundled"]
        else f"{WEIGHTS_DIR}/{e['file']}"
    )
    for name, e in WEIGHT_ENTRIES.items()
}
DATASET_FILES = {
    name: e["file"]
    for name, e in manifest_entries(DATASETS_MANIFEST, "datasets").items()
}


PAIR_SETS = config["pairs"]
DEMO_PAIR_SETS = [name for name, p in PAIR_SETS.items() if "clips" in p]
RELEASED_PAIR_SETS = [name for name, p in PAIR_SETS.items() if "archive" in p]
# pair sets built from the real datasets (FlowMag's recipe); defaults filled here, the schema's
# do not reach into named entries
BUILD_DEFAULTS = {
    "split": "train",
    "subsets": list(SUBSETS),
    "selection": "filter",
    "included": "flowmag-train-included",
    "flow": "raft-things",
    "flow_size": 512,
    "batch_size": 16,
    "num_workers": 4,
    "amp": True,
    "short_side": 512,
    "encoding": "webp",
    "seed": 0,
    "shards": {},
}
# about 2,000 candidates a shard at full scale (counts in docs/datasets.md#candidate-pairs)
DEFAULT_SHARDS = {
    "youtube_vos": 24,
    "davis": 2,
    "vimeo": 100,
    "tao_n1": 100,
    "tao_n5": 100,
    "uvo_n1": 10,
    "uvo_n5": 10,
}
BUILT_PAIR_SETS = {
    name: {
        **BUILD_DEFAULTS,
        **p["build"],
        "filter": {
            "mse_min": 10,
            "p99_9_max": 20,
            "p80_max": 2,
            "p0_01_max": 0.1,
            **p["build"].get("filter", {}),
        },
        "shards": {**DEFAULT_SHARDS, **p["build"].get("shards", {})},
    }
    for name, p in PAIR_SETS.items()
    if "build" in p
}
BUILT_TRAIN_SETS = [n for n, b in BUILT_PAIR_SETS.items() if b["split"] == "train"]
BUILT_TEST_SETS = [n for n, b in BUILT_PAIR_SETS.items() if b["split"] == "test"]
UVO = {
    "min_available": 0.95,
    "youtube_fallback": False,
    "youtube_url": "https://www.youtube.com/watch?v={id}",
    **config.get("uvo", {}),
}
# the schema's defaults do not reach into named entries: fill them here
SYNTH_SETS = {
    name: {"source": {"kind": "demo"}, "shard_size": 1000, "seed": 0, **settings}
    for name, settings in config["synthetic"].items()
}
# learned model -> {variant name: training settings}
LEARNED = {
    "flowmag": config["training"].get("flowmag", {}),
    "oh2018": config["training"].get("oh2018", {}),
}
FLOWMAG_VARIANTS = LEARNED["flowmag"]
OH_VARIANTS = LEARNED["oh2018"]


def check_method_variants():
    """Every learned method names a trained variant or a released checkpoint (else: one line
    naming the key)."""
    for name, settings in config["methods"].items():
        kind = name.split("-")[0]
        released = settings.get("checkpoint")
        if released and WEIGHT_ENTRIES.get(released, {}).get("format") not in (
            "flowmag",
            "motionmag",
        ):
            raise WorkflowError(
                f"config key methods.{name}.checkpoint (read by magnify): {released!r} is not a released model (format flowmag or motionmag) in {WEIGHTS_MANIFEST}"
            )
        if "variant" in settings and settings["variant"] not in LEARNED[kind]:
            raise WorkflowError(
                f"config key methods.{name}.variant (read by magnify): {settings['variant']!r} is not a key of training.{kind}"
            )


check_method_variants()

# evaluation benchmarks: every clip; pair benchmarks (FlowMag's protocol); synthetic sweeps (Oh's)
PAIR_BENCHMARKS = {
    name: {"crop": 512, "limit": None, **settings}
    for name, settings in config["evaluation"].get("pairs", {}).items()
}
SWEEPS = config["evaluation"].get("sweeps", [])
# how pair benchmarks are magnified and scored: "paper" as FlowMag's eval.py, "corrected" (default)
PROTOCOL = config["evaluation"].get("protocol", "corrected")
GROUPS = (["clips"] if CLIPS else []) + list(PAIR_BENCHMARKS)


def check_benchmarks():
    """Benchmarks name existing sets, and no two share a name (they share results/ folders)."""
    for name, bench in PAIR_BENCHMARKS.items():
        if bench["pairs"] not in PAIR_SETS:
            raise WorkflowError(
                f"config key evaluation.pairs.{name}.pairs (read by magnify_pairs): {bench['pairs']!r} is not a key of pairs"
            )
    for name in RELEASED_PAIR_SETS:
        if PAIR_SETS[name]["archive"] not in DATASET_FILES:
            raise WorkflowError(
                f"config key pairs.{name}.archive (read by released_pairs): {PAIR_SETS[name]['archive']!r} is not in {DATASETS_MANIFEST}"
            )
    for name in SWEEPS:
        if "sweep" not in SYNTH_SETS.get(name, {}):
            raise WorkflowError(
                f"config key evaluation.sweeps (read by evaluate_sweep): {name!r} is not a synthetic set with a sweep"
            )
    # clips and pair benchmarks share results/eval/NAME; table groups and sweeps share
    # results/tables/NAME, and "clips" is the group of every clip
    names = [*config["clips"], *PAIR_BENCHMARKS]
    clashes = {n for n in names if names.count(n) > 1}
    clashes |= {"clips"} & set(PAIR_BENCHMARKS) | set(SWEEPS) & {
        "clips",
        *PAIR_BENCHMARKS,
    }
    if clashes:
        raise WorkflowError(
            f"config key evaluation: a pair benchmark needs a name of its own (not a clip's, a sweep's or 'clips'): {sorted(clashes)}"
        )


check_benchmarks()


def synth_settings(name):
    """What makes a synthetic set (recipe path, samples, shard size, seed, sweep) besides its
    source index."""
    return {k: v for k, v in SYNTH_SETS[name].items() if k != "source"}


def synth_shard_settings(wildcards):
    """A shard's settings, with the set's size cut at the shard's end: growing a set adds
    shards and reruns only the last one."""
    settings = synth_settings(wildcards.synthset)
    end = (int(wildcards.shard) + 1) * settings["shard_size"]
    return {**settings, "samples": min(settings["samples"], end)}


def synth_shards(wildcards):
    return expand(
        "results/synthetic/{synthset}/shard-{shard}.h5",
        synthset=wildcards.synthset,
        shard=range(shard_count(SYNTH_SETS[wildcards.synthset])),
    )


def pair_set_file(name):
    """The file a pair set is read from: a built training set is a manifest of shards."""
    if name in BUILT_TRAIN_SETS:
        return f"results/pairs/{name}/manifest.json"
    return f"results/pairs/{name}.h5"


def build_settings(wildcards):
    return BUILT_PAIR_SETS[wildcards.pairset]


def layout_of(wildcards):
    return LAYOUTS[(wildcards.dataset, wildcards.split)]


def extracted(entry):
    """Where the workflow unpacks an archive of the datasets manifest."""
    return f"{DATASETS_DIR}/extracted/{entry}"


def frame_index_inputs(wildcards):
    """The extracted folder a dataset split lives in (UVO: the rebuilt clips' manifest), plus
    the lists it reads (UVO's dense jsons)."""
    layout = layout_of(wildcards)
    if layout.archive == "uvo-videos":
        inputs = {"root": f"{DATASETS_DIR}/uvo/clips.tsv"}
    else:
        inputs = {"root": extracted(layout.archive)}
    for entry in layout.lists:
        inputs[entry] = f"{DATASETS_DIR}/{DATASET_FILES[entry]}"
    return inputs


def subset_index(wildcards):
    """The frame index of a subset's dataset, in the split of its pair set."""
    dataset, _ = SUBSETS[wildcards.subset]
    split = BUILT_PAIR_SETS[wildcards.pairset]["split"]
    return f"results/datasets/frames/{dataset}_{split}.json"


def subset_candidates(wildcards):
    split = BUILT_PAIR_SETS[wildcards.pairset]["split"]
    return f"results/datasets/candidates/{wildcards.subset}_{split}.csv"


def pair_shard_inputs(wildcards):
    """A shard's candidates and frames, and what selects its pairs: the statistics (filter), or
    the authors' train_included.json."""
    settings = build_settings(wildcards)
    inputs = {
        "index": subset_index(wildcards),
        "candidates": subset_candidates(wildcards),
    }
    if settings["selection"] == "included":
        inputs["included"] = f"{DATASETS_DIR}/{DATASET_FILES[settings['included']]}"
    else:
        inputs["stats"] = "results/pairs/{pairset}/stats/{subset}/{shard}.csv".format(
            **wildcards
        )
    return inputs


def stats_settings(wildcards):
    """What the motion statistics depend on (a new threshold must not redo the flow)."""
    settings = build_settings(wildcards)
    keys = ("flow", "flow_size", "batch_size", "num_workers", "amp", "split")
    return {
        **{k: settings[k] for k in keys},
        "shards": settings["shards"][wildcards.subset],
    }


def stats_flow_weights(wildcards):
    """The checkpoint of the flow model that measures a pair set's motion (none for dis/lk)."""
    flow = build_settings(wildcards)["flow"]
    return [WEIGHT_PATHS[flow]] if flow in WEIGHT_PATHS else []


def subset_shards(name, pattern):
    """Every shard file of a built pair set, by subset."""
    settings = BUILT_PAIR_SETS[name]
    return [
        pattern.format(pairset=name, subset=subset, shard=k)
        for subset in settings["subsets"]
        for k in range(settings["shards"][subset])
    ]


def synth_source_archives(wildcards):
    """The unpacked archives a synthetic set's COCO / VOC folders lie in, so that the workflow
    downloads and unpacks them first (folders elsewhere are taken as they are)."""
    inputs = []
    for path in SYNTH_SETS[wildcards.synthset]["source"].values():
        parts = Path(str(path)).parts
        base = Path(DATASETS_DIR, "extracted").parts
        if parts[: len(base)] == base and len(parts) > len(base):
            inputs.append(extracted(parts[len(base)]))
    return inputs


def uvo_times(wildcards):
    """Kinetics' annotation CSV (clip start and end times), needed by the YouTube fallback only."""
    if UVO["youtube_fallback"]:
        return [f"{DATASETS_DIR}/{DATASET_FILES['kinetics400-val-csv']}"]
    return []


def check_built_pair_sets():
    for name, settings in BUILT_PAIR_SETS.items():
        unknown = sorted(set(settings["subsets"]) - set(SUBSETS))
        if unknown:
            raise WorkflowError(
                f"config key pairs.{name}.build.subsets (read by pair_candidates): {unknown} are not FlowMag subsets ({', '.join(SUBSETS)})"
            )
        if (
            settings["selection"] == "included"
            and settings["included"] not in DATASET_FILES
        ):
            raise WorkflowError(
                f"config key pairs.{name}.build.included (read by pair_shard): {settings['included']!r} is not in {DATASETS_MANIFEST}"
            )
        needed = {
            e
            for s in settings["subsets"]
            for key in [(SUBSETS[s][0], settings["split"])]
            for e in (LAYOUTS[key].archive, *LAYOUTS[key].lists)
        } - {"uvo-videos"}
        missing = sorted(needed - set(DATASET_FILES))
        if missing:
            raise WorkflowError(
                f"config key pairs.{name}.build.subsets (read by frame_index): {DATASETS_MANIFEST} lacks {missing}"
            )


check_built_pair_sets()


def one_of(names):
    """A wildcard regex matching exactly these names (and nothing when the list is empty)."""
    return "|".join(names) if names else "(?!x)x"


def clip_frames(wildcards):
    return f"results/clips/{wildcards.clip}/frames"


def clip_meta(wildcards):
    return f"results/clips/{wildcards.clip}/meta.json"


def truth_frames(wildcards):
    """Ground-truth magnified frames, for rendered clips only."""
    if wildcards.clip in RENDERED:
        return f"results/clips/{wildcards.clip}/truth/x{wildcards.alpha}"
    return []


def all_flow_weights(wildcards):
    """The checkpoints the evaluation flow models need (none for the weight-free ones)."""
    return [WEIGHT_PATHS[flow] for flow in FLOWS if flow in WEIGHT_PATHS]


def weights_model(wildcards):
    """The flow model whose checkpoint is this file."""
    return next(n for n, f in WEIGHT_FILES.items() if f == wildcards.weights_file)


def method_settings(method):
    """The magnifier's settings (the variant or released checkpoint becomes an input file)."""
    return {
        k: v
        for k, v in config["methods"][method].items()
        if k not in ("variant", "checkpoint")
    }


def method_checkpoint(wildcards):
    """The model a learned method needs: trained here, or released (none for the classical ones)."""
    settings = config["methods"][wildcards.method]
    if "checkpoint" in settings:
        return WEIGHT_PATHS[settings["checkpoint"]]
    if "variant" in settings:
        kind = wildcards.method.split("-")[0]
        return f"results/train/{kind}/{settings['variant']}/model.pt"
    return []


def two_frame_settings(method):
    """A method's settings for pair benchmarks and sweeps: two frames, so static mode (frame 1
    against frame 0, as FlowMag and Oh et al. evaluate) whatever its mode on clips."""
    settings = method_settings(method)
    if "mode" in settings or method.split("-")[0] in ("linear", "phase", "oh2018"):
        settings["mode"] = "static"
    return settings


def pair_benchmark_file(wildcards):
    return pair_set_file(PAIR_BENCHMARKS[wildcards.pairbench]["pairs"])


def released_archive(wildcards):
    return f"{DATASETS_DIR}/{DATASET_FILES[PAIR_SETS[wildcards.pairset]['archive']]}"


def sweep_cells(wildcards):
    return expand(
        "results/sweeps/{sweep}/{method}.csv", sweep=wildcards.sweep, method=METHODS
    )


def pair_clips(wildcards):
    """Frame folders of a pair set's clips (an optional clip that was skipped is left out)."""
    clips = [c for c in PAIR_SETS[wildcards.pairset]["clips"] if c in CLIPS]
    unknown = [
        c for c in PAIR_SETS[wildcards.pairset]["clips"] if c not in config["clips"]
    ]
    if unknown or not clips:
        raise WorkflowError(
            f"config key pairs.{wildcards.pairset}.clips (read by demo_pairs): no usable clip or unknown {unknown}"
        )
    return {c: f"results/clips/{c}/frames" for c in clips}


def flowmag_training(wildcards):
    return FLOWMAG_VARIANTS[wildcards.variant]


def oh2018_training(wildcards):
    return OH_VARIANTS[wildcards.variant]


# --- cluster resources and launchers (docs/cluster.md) ------------------------------------------

PYTHON = shlex.quote(sys.executable)  # the environment Snakemake runs in, on every node
RENDEZVOUS_PORT = 29400


def training_gpus(settings):
    return settings.get("gpus", 1)


def torchrun(settings):
    """A single-node training job: torchrun, one process per GPU (one on a CPU)."""
    return f"{PYTHON} -m torch.distributed.run --standalone --nnodes 1 --nproc_per_node {training_gpus(settings)}"


# variants trained across nodes: "<model>/<variant>" -> settings (rule train_multinode)
MULTINODE = {
    f"{model}/{variant}": settings
    for model, variants in LEARNED.items()
    for variant, settings in variants.items()
    if settings.get("nodes", 1) > 1
}


def single_node(variants):
    return [v for v, settings in variants.items() if settings.get("nodes", 1) == 1]


def multinode_rendezvous(wildcards):
    """srun starts one torchrun per node (one process per GPU each); they meet at a c10d
    rendezvous on the job's first node. The job step's SLURM_* variables are not all passed on,
    so the node list comes from the scheduler."""
    settings = MULTINODE[wildcards.run]
    first = (
        '$(scontrol show hostnames "$(squeue -h -j "$SLURM_JOB_ID" -o %N)" | head -n 1)'
    )
    return (
        f"{PYTHON} -m torch.distributed.run --nnodes {settings['nodes']} --nproc_per_node {training_gpus(settings)} "
        f'--rdzv_backend c10d --rdzv_endpoint "{first}:{RENDEZVOUS_PORT}" --rdzv_id "$SLURM_JOB_ID"'
    )


def multinode_inputs(wildcards):
    model = wildcards.run.split("/")[0]
    settings = MULTINODE[wildcards.run]
    inputs = {"config": settings["config"]}
    if model == "flowmag":
        inputs["data"] = settings["pairs"]
        inputs["weights"] = flow_weights_of(settings)
    else:
        inputs["data"] = settings["data"]
    return inputs


def steps_flag(settings):
    return f"--steps {settings['steps']}" if settings.get("steps") else ""


def gpu_if_learned(wildcards):
    """One GPU for a learned method's job, none for the classical ones."""
    return 1 if wildcards.method.split("-")[0] in LEARNED else 0


# scoring jobs take one GPU when an evaluation flow model is a network, none for dis/lk-style ones
GPU_IF_NETWORK_FLOW = int(any(flow in WEIGHT_PATHS for flow in FLOWS))


def mem_mb(base):
    """Memory that grows with each cluster-level retry (profile `retries:`)."""
    return lambda wildcards, attempt: base * attempt


def training_flow_weights(wildcards):
    """The checkpoint of the flow model a FlowMag variant trains through (none for lk)."""
    return flow_weights_of(flowmag_training(wildcards))


def flow_weights_of(settings):
    with open(settings["config"]) as stream:
        flow = (yaml.safe_load(stream).get("train") or {}).get("flow", "raft-things")
    return WEIGHT_PATHS.get(flow, [])


def init_weights_of(settings):
    """The released model a variant fine-tunes from (train.init in its config), if any."""
    with open(settings["config"]) as stream:
        init = (yaml.safe_load(stream).get("train") or {}).get("init")
    return WEIGHT_PATHS.get(init, init or [])


def magnified_all_methods(wildcards):
    return [
        f"results/magnified/{wildcards.clip}/{m}/x{wildcards.alpha}" for m in METHODS
    ]


def result_cells():
    """Every clip and pair-benchmark cell: benchmark x method x flow model x alpha."""
    return expand(
        "results/eval/{benchmark}/{method}/{flow}/x{alpha}.csv",
        benchmark=list(CLIPS) + list(PAIR_BENCHMARKS),
        method=METHODS,
        flow=FLOWS,
        alpha=ALPHAS,
    )


def table_stems():
    """FlowMag-layout tables per group and Oh-layout tables per sweep, as results/tables/ stems."""
    return [
        *table_stems_of(GROUPS, [float(a) for a in ALPHAS]),
        *[f"{sweep}/ssim" for sweep in SWEEPS],
    ]


def table_files():
    return expand(
        "results/tables/{stem}.{ext}",
        stem=table_stems_of(GROUPS, [float(a) for a in ALPHAS]),
        ext=["csv", "md", "tex"],
    )


def final_outputs():
    return [
        "results/tables/cells.csv",
        *table_files(),
        *expand("results/tables/{stem}.{ext}", stem=table_stems(), ext=["html"]),
        *expand("results/tables/{sweep}/ssim.{ext}", sweep=SWEEPS, ext=["md", "tex"]),
        *[
            f"results/plots/{group}/{metric}_vs_alpha.png"
            for group in GROUPS
            for metric in group_metrics(group)
        ],
        *expand("results/plots/{sweep}/ssim.png", sweep=SWEEPS),
        *expand(
            "results/videos/{clip}/side_by_side_x{alpha}.mp4",
            clip=list(CLIPS),
            alpha=ALPHAS,
        ),
        *expand(
            "results/videos/{clip}/{method}_x{alpha}.mp4",
            clip=list(CLIPS),
            method=METHODS,
            alpha=ALPHAS,
        ),
        *expand("results/slices/{clip}/x{alpha}.png", clip=list(CLIPS), alpha=ALPHAS),
        *expand("results/synthetic/{synthset}/preview.png", synthset=list(SYNTH_SETS)),
        # the training stage runs even where no method uses its model (e.g. the demo's fine-tunes)
        *[
            f"results/train/{model}/{variant}/loss.png"
            for model, variants in LEARNED.items()
            for variant in variants
        ],
    ]
