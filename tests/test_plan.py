"""The workflow's plan (motionmag.workflow.plan): defaults from the schema, the cross-checks, the
launchers and the final outputs, tested without Snakemake."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from motionmag.errors import MotionmagError
from motionmag.workflow.plan import LEARNED, Plan

ROOT = Path(__file__).resolve().parents[1]
DEMO = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)  # clip paths and manifests are relative to the working directory


def plan_of(config: dict) -> Plan:
    return Plan(copy.deepcopy(config), ROOT)


def test_named_entries_get_the_schema_defaults():
    config = copy.deepcopy(PAPER)
    name = next(n for n, p in config["pairs"].items() if "build" in p)
    config["pairs"][name]["build"] = {"subsets": ["davis"], "filter": {"p80_max": 3}, "shards": {"davis": 5}}
    plan = plan_of(config)
    build = plan.built[name]
    assert build["selection"] == "filter" and build["flow"] == "raft-things" and build["short_side"] == 512
    assert build["filter"] == {"mse_min": 10, "p99_9_max": 20, "p80_max": 3, "p0_01_max": 0.1}
    assert build["shards"]["davis"] == 5 and build["shards"]["vimeo"] == 100
    synth = plan.synth_sets["demo"] if "demo" in plan.synth_sets else next(iter(plan.synth_sets.values()))
    assert {"shard_size", "seed", "source"} <= set(synth)
    bench = next(iter(plan.pair_benchmarks.values()))
    assert {"crop", "limit"} <= set(bench)
    assert plan.config["evaluation"]["region_margin"] == 8 and plan.config["videos"]["crf"] == 18


def test_unset_training_settings_come_from_the_schema():
    plan = plan_of(DEMO)
    for variants in plan.variants.values():
        for settings in variants.values():
            assert settings["gpus"] == 1 and settings["nodes"] == 1


def test_the_demo_plan_lists_every_stage():
    plan = plan_of(DEMO)
    assert plan.rendered and plan.imported and plan.methods and plan.alphas == ["4", "10"]
    outputs = plan.final_outputs()
    assert len(outputs) == len(set(outputs))
    assert "results/tables/cells.csv" in outputs
    assert all(f"results/videos/{c}/side_by_side_x4.mp4" in outputs for c in plan.clips)
    clip_cells = sum(len(plan.methods_on(c)) for c in plan.clips)
    assert len(plan.result_cells()) == (clip_cells + len(plan.pair_benchmarks) * len(plan.methods)) * len(plan.flows) * 2


def test_a_methods_clips_narrow_its_magnifications_and_cells():
    config = copy.deepcopy(DEMO)
    config["methods"]["phase"]["clips"] = ["subpixel"]
    plan = plan_of(config)
    assert "phase" in plan.methods_on("subpixel") and "phase" not in plan.methods_on("cat_on_gravel")
    cells, outputs = plan.result_cells(), plan.final_outputs()
    assert "results/eval/subpixel/phase/dis/x4.csv" in cells and "results/eval/cat_on_gravel/phase/dis/x4.csv" not in cells
    assert "results/videos/subpixel/phase_x4.mp4" in outputs and "results/videos/cat_on_gravel/phase_x4.mp4" not in outputs
    benchmark = next(iter(plan.pair_benchmarks))
    assert f"results/eval/{benchmark}/phase/dis/x4.csv" in cells  # pair benchmarks are unaffected
    assert "clips" not in plan.method_settings("phase")


def test_learned_methods_and_their_checkpoints():
    plan = plan_of(DEMO)
    learned = [m for m in plan.methods if plan.learned(m)]
    assert learned and all(m.split("-")[0] in LEARNED for m in learned)
    for method in plan.methods:
        checkpoint = plan.method_checkpoint(method)
        assert bool(checkpoint) == plan.learned(method)
    assert not plan.learned("phase") and plan.method_checkpoint("phase") == []


def test_two_frame_settings_are_static():
    plan = plan_of(DEMO)
    for method in plan.methods:
        settings = plan.two_frame_settings(method)
        assert "variant" not in settings and "checkpoint" not in settings
        if method.split("-")[0] != "flowmag":
            assert settings["mode"] == "static"


def test_launchers():
    plan = plan_of(PAPER)
    settings = {"gpus": 4, "nodes": 1, "steps": 7}
    assert plan.launcher(settings).endswith("--standalone --nnodes 1 --nproc_per_node 4")
    one = plan.launcher({"gpus": 1, "nodes": 1})  # one process: python itself, no torchrun agent
    assert "torch.distributed" not in one and one.split()[-1].endswith(("python", "python3"))
    assert plan.steps_flag(settings) == "--steps 7" and plan.steps_flag({}) == ""
    config = copy.deepcopy(PAPER)
    variant = next(iter(config["training"]["flowmag"]))
    config["training"]["flowmag"][variant].update(nodes=2, gpus=8)
    plan = plan_of(config)
    run = f"flowmag/{variant}"
    assert list(plan.multinode) == [run] and variant not in plan.single_node("flowmag")
    launcher = plan.multinode_launcher(run)
    assert "--nnodes 2 --nproc_per_node 8" in launcher and "--rdzv_backend c10d" in launcher


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c["methods"].update({"oh2018-x": {"variant": "nope"}}), "methods.oh2018-x.variant"),
        (lambda c: c["methods"].update({"oh2018-x": {"checkpoint": "raft-things"}}), "methods.oh2018-x.checkpoint"),
        (lambda c: c["evaluation"].update(sweeps=["demo"]), "evaluation.sweeps"),
        (lambda c: c["evaluation"].update(pairs={"x": {"pairs": "nope"}}), "evaluation.pairs.x.pairs"),
        (lambda c: c["evaluation"].update(pairs={"subpixel": {"pairs": "demo"}}), "a pair benchmark needs a name of its own"),
        (lambda c: c["clips"].update(gone={"path": "no/such/clip.mp4"}), "clips.gone.path"),
        (lambda c: c["weights"].update(manifest="no/such.yaml"), "weights.manifest"),
        (lambda c: c["methods"]["phase"].update(clips=["nope"]), "methods.phase.clips"),
    ],
)
def test_cross_checks_name_the_key(edit, message):
    config = copy.deepcopy(DEMO)
    edit(config)
    with pytest.raises(MotionmagError, match=message.replace(".", r"\.")) as error:
        plan_of(config)
    assert "\n" not in str(error.value)


def test_an_optional_missing_clip_is_skipped():
    config = copy.deepcopy(DEMO)
    config["clips"]["gone"] = {"path": "no/such/clip.mp4", "optional": True}
    plan = plan_of(config)
    assert plan.skipped == ["gone"] and "gone" not in plan.clips


def test_built_pair_sets_are_checked():
    config = copy.deepcopy(PAPER)
    name = next(n for n, p in config["pairs"].items() if "build" in p)
    config["pairs"][name]["build"].update(selection="included", included="no-such-entry")
    with pytest.raises(MotionmagError, match=rf"pairs\.{name}\.build\.included"):
        plan_of(config)


def test_the_paper_plan_scores_axials_published_sweeps_by_its_protocol():
    plan = plan_of(PAPER)
    assert set(plan.imported_sets) == {"axial_subpixel", "axial_noise"}
    assert {"axial", "eulermormer", "stbvmm"} <= set(plan.methods) and all(plan.learned(m) for m in ("axial", "stbvmm"))
    assert plan.config["evaluation"]["sweep_protocols"]["axial_noise"] == "axial"
    assert "results/synthetic/axial_noise/preview.png" in plan.final_outputs()


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda c: c["synthetic"]["axial_noise"].update(sweep={"kind": "noise", "levels": [1, 2, 3]}), "synthetic.axial_noise.sweep"),
        (lambda c: c["synthetic"]["axial_noise"].update({"import": "no-such-entry"}), "synthetic.axial_noise.import"),
        (lambda c: c["evaluation"]["sweep_protocols"].update(nope="axial"), "evaluation.sweep_protocols.nope"),
        (lambda c: c["methods"]["axial"].update(checkpoint="flowmag-raft"), "methods.axial.checkpoint"),
    ],
)
def test_imported_sweeps_and_released_models_are_checked(edit, message):
    config = copy.deepcopy(PAPER)
    edit(config)
    with pytest.raises(MotionmagError, match=message.replace(".", r"\.")):
        plan_of(config)


def test_clips_too_short_for_a_spectrum_are_not_analysed():
    config = copy.deepcopy(DEMO)
    name = next(n for n, c in config["clips"].items() if "render" in c)
    config["clips"][name]["render"]["frames"] = 4
    plan = plan_of(config)
    assert name not in plan.analysed_clips() and f"results/analysis/{name}/index.html" not in plan.final_outputs()
    assert set(plan.analysed_clips()) == set(plan.clips) - {name}
