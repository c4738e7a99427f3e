"""The workflow's plan: the validated config and everything the rules derive from it.

``Plan(config, basedir)`` validates the config against the schema, which fills every default
(named entries included), runs the cross-checks (one ``MotionmagError`` line naming the key and
the rule that reads it), and answers the questions the rules ask: which clips, methods, flow
models, sets and variants there are, which file each learned method needs, how a training is
launched, and which files the whole run makes. ``workflow/rules/common.smk`` builds one; the
rules keep their input functions and paths. Tested without Snakemake (tests/test_plan.py).
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from motionmag.analysis.spectrum import MIN_SEGMENT
from motionmag.config import validate_config
from motionmag.data.video_index import LAYOUTS, SUBSETS
from motionmag.errors import MotionmagError
from motionmag.methods import method_kind, method_spec
from motionmag.report.tables import group_metrics, table_stems
from motionmag.resources import read_manifest
from motionmag.synth.generate import shard_count

SCHEMA = "workflow/schemas/config.schema.yaml"
# the models the workflow trains (training.<model>.<variant>): FlowMag on frame pairs, the others on
# a synthetic set
SYNTHETIC_MODELS = ("oh2018", "axial", "eulermormer", "stbvmm")
LEARNED = ("flowmag", *SYNTHETIC_MODELS)
# keys of a methods entry that the workflow reads (every other key is a magnifier option)
WORKFLOW_KEYS = ("variant", "checkpoint", "clips")
RENDEZVOUS_PORT = 29400  # c10d rendezvous of a multi-node training, on the job's first node


@dataclass
class Plan:
    config: dict
    basedir: Path = Path(".")
    skipped: list[str] = field(default_factory=list)  # optional clips whose path is missing

    def __post_init__(self):
        self.basedir = Path(self.basedir)
        validate_config(self.config, self.basedir / SCHEMA)  # fills the schema's defaults
        c = self.config
        # --- what every stage fans out over
        self.clips = self._usable_clips()
        self.rendered = [n for n, clip in self.clips.items() if "render" in clip]
        self.imported = [n for n, clip in self.clips.items() if "path" in clip]
        self.methods = list(c["methods"])
        self.alphas = [f"{alpha:g}" for alpha in c["alphas"]]
        self.flows = c["evaluation"]["flows"]
        # --- downloads: the weights and datasets manifests
        self.weights_manifest = self._manifest_path("weights", "download_weights")
        self.datasets_manifest = self._manifest_path("datasets", "download_dataset")
        self.weights_dir = c["weights"]["dir"]
        self.datasets_dir = c["datasets"]["dir"]
        self.weight_entries = self._manifest("weights")
        # downloadable files; bundled ones (made here, e.g. the released demo weights) ship in the repo
        self.weight_files = {n: e.file for n, e in self.weight_entries.items() if not e.bundled}
        self.weight_paths = {n: str(e.path_under(self.weights_dir, "resources/release")) for n, e in self.weight_entries.items()}
        self.dataset_files = {n: e.file for n, e in self._manifest("datasets").items()}
        # --- pair sets: from demo clips, a released archive, or built from the real datasets
        self.pair_sets = c["pairs"]
        self.demo_pair_sets = [n for n, p in self.pair_sets.items() if "clips" in p]
        self.released_pair_sets = [n for n, p in self.pair_sets.items() if "archive" in p]
        self.built = {n: p["build"] for n, p in self.pair_sets.items() if "build" in p}
        self.built_train_sets = [n for n, b in self.built.items() if b["split"] == "train"]
        self.built_test_sets = [n for n, b in self.built.items() if b["split"] == "test"]
        # --- synthetic sets, trainings, evaluation
        # generated sets (a recipe), and sets imported from a published archive (Axial-MM's)
        self.synth_sets = {n: s for n, s in c["synthetic"].items() if "import" not in s}
        self.imported_sets = {n: s for n, s in c["synthetic"].items() if "import" in s}
        self.variants = {model: c["training"].get(model, {}) for model in LEARNED}
        self.synthetic_models = list(SYNTHETIC_MODELS)
        self.multinode = {
            f"{model}/{variant}": settings
            for model, variants in self.variants.items()
            for variant, settings in variants.items()
            if settings["nodes"] > 1
        }
        self.pair_benchmarks = c["evaluation"]["pairs"]
        self.sweeps = c["evaluation"]["sweeps"]
        self.protocol = c["evaluation"]["protocol"]
        self.groups = (["clips"] if self.clips else []) + list(self.pair_benchmarks)
        self._check_methods()
        self._check_demo_pair_sets()
        self._check_benchmarks()
        self._check_built_pair_sets()

    # --- clips and manifests

    def _usable_clips(self) -> dict:
        clips = {}
        for name, clip in self.config["clips"].items():
            if "path" in clip and not Path(clip["path"]).exists():
                if clip["optional"]:
                    self.skipped.append(name)
                    continue
                raise MotionmagError(
                    f"config key clips.{name}.path: {clip['path']} does not exist (read by the import_clip step)")
            clips[name] = clip
        return clips

    def _manifest_path(self, key: str, rule: str) -> str:
        """A manifest path: relative to the working directory, else to the workflow."""
        path = Path(self.config[key]["manifest"])
        if not path.is_absolute() and not path.exists():
            path = self.basedir / path
        if not path.exists():
            raise MotionmagError(f"config key {key}.manifest: {path} does not exist (read by {rule})")
        return str(path)

    def _manifest(self, kind: str) -> dict:
        path = self.weights_manifest if kind == "weights" else self.datasets_manifest
        try:
            return read_manifest(path, kind)
        except MotionmagError as err:
            raise MotionmagError(f"config key {kind}.manifest: {err}") from None

    # --- methods

    def method_settings(self, method: str) -> dict:
        """The magnifier's settings (the variant or released checkpoint becomes an input file)."""
        return {k: v for k, v in self.config["methods"][method].items() if k not in WORKFLOW_KEYS}

    def methods_on(self, clip: str) -> list[str]:
        """The methods that magnify ``clip`` (a method's ``clips`` narrows it; default all)."""
        return [m for m in self.methods if clip in self.config["methods"][m].get("clips", self.clips)]

    def two_frame_settings(self, method: str) -> dict:
        """Settings for pair benchmarks and sweeps: two frames, so static mode (frame 1 against
        frame 0, as FlowMag and Oh et al. evaluate) whatever the method's mode on clips."""
        return method_spec(method).two_frame(self.method_settings(method))

    def learned(self, method: str) -> bool:
        return method_spec(method).learned

    def method_checkpoint(self, method: str) -> str | list:
        """The model a learned method needs: trained here, or released (none for classical ones)."""
        settings = self.config["methods"][method]
        if "checkpoint" in settings:
            return self.weight_paths[settings["checkpoint"]]
        if "variant" in settings:
            return f"results/train/{method_kind(method)}/{settings['variant']}/model.pt"
        return []

    def _check_methods(self) -> None:
        """Each method's options against its declaration; a learned method names one trained
        variant or one released model, a classical one neither."""
        for name, settings in self.config["methods"].items():
            where = f"config key methods.{name}"
            try:
                spec = method_spec(name)
            except MotionmagError as err:
                raise MotionmagError(f"{where} (read by rule magnify): {err}") from None
            for key, value in self.method_settings(name).items():
                if key not in spec.options or key == "checkpoint":
                    raise MotionmagError(
                        f"{where}.{key} (read by rule magnify): not an option of {spec.name}; it takes "
                        f"{', '.join(o for o in spec.options if o != 'checkpoint')}")
                spec.options[key].check(value, f"{where}.{key} (read by rule magnify)")
            unknown = [c for c in settings.get("clips", []) if c not in self.config["clips"]]
            if unknown:
                raise MotionmagError(f"{where}.clips (read by rule magnify): {unknown} are not keys of clips")
            models = [key for key in ("variant", "checkpoint") if key in settings]
            if not spec.learned:
                if models:
                    raise MotionmagError(f"{where}.{models[0]} (read by rule magnify): {spec.name} is not a learned method")
                continue
            if len(models) != 1:
                raise MotionmagError(
                    f"{where} (read by rule magnify): a learned method names either a variant (training.{spec.name}) "
                    "or a checkpoint (the weights manifest)")
            released = settings.get("checkpoint")
            # a released model: the authors' (its format is the method's name) or one made here (motionmag)
            if released and getattr(self.weight_entries.get(released), "format", None) not in (spec.name, "motionmag"):
                raise MotionmagError(
                    f"{where}.checkpoint (read by rule magnify): {released!r} is not a released {spec.name} model "
                    f"(format {spec.name} or motionmag) in {self.weights_manifest}")
            if "variant" in settings and settings["variant"] not in self.variants[spec.name]:
                raise MotionmagError(
                    f"{where}.variant (read by rule magnify): {settings['variant']!r} is not a key of training.{spec.name}")

    # --- evaluation

    def _check_benchmarks(self) -> None:
        """Benchmarks name existing sets, and no two share a name (they share results/ folders)."""
        for name, bench in self.pair_benchmarks.items():
            if bench["pairs"] not in self.pair_sets:
                raise MotionmagError(
                    f"config key evaluation.pairs.{name}.pairs (read by magnify_pairs): {bench['pairs']!r} is not a key of pairs")
        for name in self.released_pair_sets:
            if self.pair_sets[name]["archive"] not in self.dataset_files:
                raise MotionmagError(
                    f"config key pairs.{name}.archive (read by released_pairs): {self.pair_sets[name]['archive']!r} "
                    f"is not in {self.datasets_manifest}")
        for name in self.sweeps:
            if "sweep" not in self.synth_sets.get(name, {}) and name not in self.imported_sets:
                raise MotionmagError(
                    f"config key evaluation.sweeps (read by evaluate_sweep): {name!r} is not a synthetic set with a sweep")
        for name in self.config["evaluation"]["sweep_protocols"]:
            if name not in self.sweeps:
                raise MotionmagError(
                    f"config key evaluation.sweep_protocols.{name} (read by evaluate_sweep): not one of evaluation.sweeps")
        for name, settings in self.config["synthetic"].items():
            imported = "import" in settings
            if "sweep" in settings and isinstance(settings["sweep"], str) != imported:
                raise MotionmagError(
                    f"config key synthetic.{name}.sweep (read by synth_shard, import_axial_eval): an imported set "
                    "names its sweep (subpixel or noise), a generated one describes it (kind, levels, ...)")
        for name, settings in self.imported_sets.items():
            if settings["import"] not in self.dataset_files:
                raise MotionmagError(
                    f"config key synthetic.{name}.import (read by import_axial_eval): {settings['import']!r} "
                    f"is not in {self.datasets_manifest}")
        # clips and pair benchmarks share results/eval/NAME; table groups and sweeps share
        # results/tables/NAME, and "clips" is the group of every clip
        names = [*self.config["clips"], *self.pair_benchmarks]
        clashes = {n for n in names if names.count(n) > 1}
        clashes |= {"clips"} & set(self.pair_benchmarks) | set(self.sweeps) & {"clips", *self.pair_benchmarks}
        if clashes:
            raise MotionmagError(
                "config key evaluation: a pair benchmark needs a name of its own (not a clip's, a sweep's or "
                f"'clips'): {sorted(clashes)}")

    def network_flows(self) -> bool:
        """Whether an evaluation flow model is a network (its scoring jobs then take a GPU)."""
        return any(flow in self.weight_paths for flow in self.flows)

    # --- pair sets

    def _check_demo_pair_sets(self) -> None:
        for name in self.demo_pair_sets:
            named = self.pair_sets[name]["clips"]
            unknown = [c for c in named if c not in self.config["clips"]]
            if unknown or not set(named) & set(self.clips):
                raise MotionmagError(
                    f"config key pairs.{name}.clips (read by demo_pairs): no usable clip or unknown {unknown}")

    def demo_pair_clips(self, pairset: str) -> dict[str, str]:
        """Frame folders of a pair set's clips (an optional clip that was skipped is left out)."""
        return {c: f"results/clips/{c}/frames" for c in self.pair_sets[pairset]["clips"] if c in self.clips}

    def released_archive(self, pairset: str) -> str:
        return self.dataset_path(self.pair_sets[pairset]["archive"])

    def dataset_path(self, entry: str) -> str:
        """Where the workflow downloads an entry of the datasets manifest."""
        return f"{self.datasets_dir}/{self.dataset_files[entry]}"

    def extracted(self, entry: str) -> str:
        """Where the workflow unpacks an archive of the datasets manifest."""
        return f"{self.datasets_dir}/extracted/{entry}"

    # --- FlowMag's pair sets from the real datasets

    def frame_index_inputs(self, dataset: str, split: str) -> dict[str, str]:
        """The extracted folder a dataset split lives in (UVO: the rebuilt clips' manifest), plus
        the lists it reads (UVO's dense jsons)."""
        layout = LAYOUTS[(dataset, split)]
        root = f"{self.datasets_dir}/uvo/clips.tsv" if layout.archive == "uvo-videos" else self.extracted(layout.archive)
        return {"root": root, **{entry: self.dataset_path(entry) for entry in layout.lists}}

    def subset_index(self, pairset: str, subset: str) -> str:
        """The frame index of a subset's dataset, in the split of its pair set."""
        return f"results/datasets/frames/{SUBSETS[subset][0]}_{self.built[pairset]['split']}.json"

    def subset_candidates(self, pairset: str, subset: str) -> str:
        return f"results/datasets/candidates/{subset}_{self.built[pairset]['split']}.csv"

    def test_indexes(self, pairset: str) -> dict[str, str]:
        """Subset -> the frame index its test pairs are read from."""
        return {s: f"results/datasets/frames/{SUBSETS[s][0]}_test.json" for s in self.built[pairset]["subsets"]}

    def pair_shard_inputs(self, pairset: str, subset: str, shard: str) -> dict[str, str]:
        """A shard's candidates and frames, and what selects its pairs: the statistics (filter),
        or the authors' train_included.json."""
        settings = self.built[pairset]
        inputs = {"index": self.subset_index(pairset, subset), "candidates": self.subset_candidates(pairset, subset)}
        if settings["selection"] == "included":
            inputs["included"] = self.dataset_path(settings["included"])
        else:
            inputs["stats"] = f"results/pairs/{pairset}/stats/{subset}/{shard}.csv"
        return inputs

    def stats_settings(self, pairset: str, subset: str) -> dict:
        """What the motion statistics depend on (a new threshold must not redo the flow)."""
        settings = self.built[pairset]
        keys = ("flow", "flow_size", "batch_size", "num_workers", "amp", "split")
        return {**{k: settings[k] for k in keys}, "shards": settings["shards"][subset]}

    def stats_flow_weights(self, pairset: str) -> list[str]:
        """The checkpoint of the flow model that measures a pair set's motion (none for dis/lk)."""
        flow = self.built[pairset]["flow"]
        return [self.weight_paths[flow]] if flow in self.weight_paths else []

    def uvo_times(self) -> list[str]:
        """Kinetics' annotation CSV (clip start and end times), needed by the YouTube fallback only."""
        return [self.dataset_path("kinetics400-val-csv")] if self.config["uvo"]["youtube_fallback"] else []

    def weights_model(self, file: str) -> str:
        """The flow model whose checkpoint is this file."""
        return next(n for n, f in self.weight_files.items() if f == file)

    def _check_built_pair_sets(self) -> None:
        for name, settings in self.built.items():
            unknown = sorted(set(settings["subsets"]) - set(SUBSETS))
            if unknown:
                raise MotionmagError(
                    f"config key pairs.{name}.build.subsets (read by pair_candidates): {unknown} are not FlowMag "
                    f"subsets ({', '.join(SUBSETS)})")
            if settings["selection"] == "included" and settings["included"] not in self.dataset_files:
                raise MotionmagError(
                    f"config key pairs.{name}.build.included (read by pair_shard): {settings['included']!r} "
                    f"is not in {self.datasets_manifest}")
            layouts = [LAYOUTS[(SUBSETS[s][0], settings["split"])] for s in settings["subsets"]]
            needed = {e for layout in layouts for e in (layout.archive, *layout.lists)} - {"uvo-videos"}
            missing = sorted(needed - set(self.dataset_files))
            if missing:
                raise MotionmagError(
                    f"config key pairs.{name}.build.subsets (read by frame_index): {self.datasets_manifest} lacks {missing}")

    def subset_shards(self, pairset: str, pattern: str) -> list[str]:
        """Every shard file of a built pair set, by subset."""
        settings = self.built[pairset]
        return [pattern.format(pairset=pairset, subset=subset, shard=k)
                for subset in settings["subsets"] for k in range(settings["shards"][subset])]

    def pair_set_file(self, name: str) -> str:
        """The file a pair set is read from: a built training set is a manifest of shards."""
        return f"results/pairs/{name}/manifest.json" if name in self.built_train_sets else f"results/pairs/{name}.h5"

    # --- synthetic sets

    def synth_shards(self, synthset: str) -> list[str]:
        return [f"results/synthetic/{synthset}/shard-{k}.h5" for k in range(shard_count(self.synth_sets[synthset]))]

    def synth_source_archives(self, synthset: str) -> list[str]:
        """The unpacked archives a set's COCO / VOC folders lie in, so that the workflow downloads
        and unpacks them first (folders elsewhere are taken as they are)."""
        base = Path(self.datasets_dir, "extracted").parts
        inputs = []
        for key in ("coco", "voc"):
            parts = Path(str(self.synth_sets[synthset]["source"].get(key, ""))).parts
            if parts[: len(base)] == base and len(parts) > len(base):
                inputs.append(self.extracted(parts[len(base)]))
        return inputs

    def synth_shard_settings(self, synthset: str, shard: int) -> dict:
        """A shard's settings, with the set's size cut at the shard's end: growing a set adds
        shards and reruns only the last one."""
        settings = {k: v for k, v in self.synth_sets[synthset].items() if k != "source"}
        end = (shard + 1) * settings["shard_size"]
        return {**settings, "samples": min(settings["samples"], end)}

    # --- trainings and their launchers (docs/cluster.md)

    def single_node(self, model: str) -> list[str]:
        return [v for v, settings in self.variants[model].items() if settings["nodes"] == 1]

    @staticmethod
    def launcher(settings: dict) -> str:
        """A single-node training job: torchrun, one process per GPU; one process (on one GPU or
        the CPU) starts alone, as torchrun's agent would cost it a second torch import."""
        if settings["gpus"] <= 1:
            return _python()
        return f"{_python()} -m torch.distributed.run --standalone --nnodes 1 --nproc_per_node {settings['gpus']}"

    def multinode_launcher(self, run: str) -> str:
        """srun starts one torchrun per node (one process per GPU each); they meet at a c10d
        rendezvous on the job's first node. The job step's SLURM_* variables are not all passed
        on, so the node list comes from the scheduler."""
        settings = self.multinode[run]
        first = '$(scontrol show hostnames "$(squeue -h -j "$SLURM_JOB_ID" -o %N)" | head -n 1)'
        return (f"{_python()} -m torch.distributed.run --nnodes {settings['nodes']} --nproc_per_node {settings['gpus']} "
                f'--rdzv_backend c10d --rdzv_endpoint "{first}:{RENDEZVOUS_PORT}" --rdzv_id "$SLURM_JOB_ID"')

    def multinode_inputs(self, run: str) -> dict:
        model, settings = run.split("/")[0], self.multinode[run]
        if model == "flowmag":
            return {"config": settings["config"], "data": settings["pairs"], "weights": self.flow_weights_of(settings)}
        return {"config": settings["config"], "data": settings["data"]}

    @staticmethod
    def steps_flag(settings: dict) -> str:
        return f"--steps {settings['steps']}" if settings.get("steps") else ""

    def _train_setting(self, settings: dict, key: str, default):
        with open(settings["config"]) as stream:
            return (yaml.safe_load(stream).get("train") or {}).get(key, default)

    def flow_weights_of(self, settings: dict) -> str | list:
        """The checkpoint of the flow model a FlowMag variant trains through (none for lk)."""
        return self.weight_paths.get(self._train_setting(settings, "flow", "raft-things"), [])

    def init_weights_of(self, settings: dict) -> str | list:
        """The released model a variant fine-tunes from (train.init in its config), if any."""
        init = self._train_setting(settings, "init", None)
        return self.weight_paths.get(init, init or [])

    def analysed_clips(self) -> list[str]:
        """The clips the motion analysis runs on: all of them, except those known to be shorter
        than a spectrum needs (a rendered clip's frames, an imported clip's max_frames)."""
        if not self.config["analysis"]["clips"]:
            return []
        known = {n: c["render"].get("frames") if "render" in c else c.get("max_frames") for n, c in self.clips.items()}
        return [n for n, frames in known.items() if frames is None or frames >= MIN_SEGMENT]

    def analysis_settings(self, clip: str) -> dict:
        """The config's ``analysis`` settings, with the clip's own regions of interest."""
        return {**self.config["analysis"], "roi": self.clips[clip].get("roi", [])}

    # --- what the whole run makes

    def table_stems(self) -> list[str]:
        """FlowMag-layout tables per group, as results/tables/ stems."""
        return table_stems(self.groups, [float(a) for a in self.alphas])

    def plots(self) -> list[tuple[str, str]]:
        return [(group, metric) for group in self.groups for metric in group_metrics(group)]

    def result_cells(self) -> list[str]:
        """Every clip and pair-benchmark cell: benchmark x method x flow model x alpha."""
        return [f"results/eval/{b}/{m}/{f}/x{a}.csv"
                for b, methods in [*((c, self.methods_on(c)) for c in self.clips),
                                   *((p, self.methods) for p in self.pair_benchmarks)]
                for m in methods for f in self.flows for a in self.alphas]

    def final_outputs(self) -> list[str]:
        clips, alphas = list(self.clips), self.alphas
        return [
            "results/tables/cells.csv",
            *[f"results/tables/{stem}.{ext}" for stem in self.table_stems() for ext in ("csv", "md", "tex", "html")],
            *[f"results/tables/{sweep}/ssim.{ext}" for sweep in self.sweeps for ext in ("md", "tex", "html")],
            *[f"results/plots/{group}/{metric}_vs_alpha.png" for group, metric in self.plots()],
            *[f"results/plots/{sweep}/ssim.png" for sweep in self.sweeps],
            *[f"results/videos/{c}/side_by_side_x{a}.mp4" for c in clips for a in alphas],
            *[f"results/videos/{c}/{m}_x{a}.mp4" for c in clips for m in self.methods_on(c) for a in alphas],
            *[f"results/slices/{c}/x{a}.png" for c in clips for a in alphas],
            *[f"results/analysis/{c}/index.html" for c in self.analysed_clips()],
            *[f"results/synthetic/{s}/preview.png" for s in [*self.synth_sets, *self.imported_sets]],
            # the training stage runs even where no method uses its model (e.g. the demo's fine-tunes)
            *[f"results/train/{model}/{variant}/loss.png" for model, variants in self.variants.items() for variant in variants],
        ]


def _python() -> str:
    """The environment Snakemake runs in, on every node."""
    return shlex.quote(sys.executable)
