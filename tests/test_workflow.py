"""The Snakemake workflow: lint, format, fail-fast config errors, and a tiny end-to-end run."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import av
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TINY = {
    "device": "cpu",
    "clips": {
        "tiny": {
            "render": {
                "width": 72, "height": 56, "frames": 6, "fps": 12, "object": "chelsea", "background": "gravel",
                "object_motion": {"amplitude": 0.3, "frequency": 2.0, "direction": 0},
                "background_motion": {"amplitude": 0.0},
            }
        }
    },
    "alphas": [4],
    "methods": {"linear": {"mode": "static"}, "phase": {"mode": "static", "orientations": 4}},
    "evaluation": {"flows": ["dis"], "region_margin": 4},
}


def snakemake_command(workdir: Path) -> list[str]:
    """This workflow, run in ``workdir`` on its config.yaml."""
    return [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(workdir / "config.yaml")]


def snakemake(workdir: Path, *args: str, config: dict | None = None) -> subprocess.CompletedProcess:
    if config is not None:
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    command = [*snakemake_command(workdir), *args]
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> count from a dry run's job-stats table."""
    table = result.stdout.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def test_lint_and_format_pass():
    lint = subprocess.run([str(BIN / "snakemake"), "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/"], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_default_config_dry_run_builds_the_dag():
    result = subprocess.run([str(BIN / "snakemake"), "-n", "--quiet", "rules"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_bad_config_fails_fast_naming_key_and_rule(tmp_path):
    bad = copy.deepcopy(TINY)
    bad["methods"]["phase"]["orientations"] = 0
    result = snakemake(tmp_path, "-n", config=bad)
    assert result.returncode != 0
    assert "config key methods.phase.orientations (read by rule magnify)" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


# TINY plus a pair benchmark (FlowMag's protocol) and a synthetic sweep (Oh's)
TINY_EVAL = {
    **copy.deepcopy(TINY),
    "pairs": {"tinypairs": {"clips": ["tiny"], "spacings": [1]}},
    "synthetic": {"tinysweep": {"recipe": str(ROOT / "config" / "synthetic" / "demo.yaml"), "samples": 1,
                                "shard_size": 1, "sweep": {"kind": "subpixel", "levels": [0.1, 1.0, 2], "magnified": 4}}},
    "evaluation": {"flows": ["dis"], "region_margin": 4, "sweeps": ["tinysweep"], "sweep_border": 4,
                   "pairs": {"tinybench": {"pairs": "tinypairs", "crop": 32, "limit": 2}}},
}


@pytest.mark.slow
def test_tiny_workflow_end_to_end_and_incremental(tmp_path):
    run = snakemake(tmp_path, "--cores", "2", config=TINY_EVAL)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    cells = pd.read_csv(results / "tables" / "cells.csv")
    assert len(cells) == 4 and set(cells["method"]) == {"linear", "phase"}
    clip, pairs = cells[cells["kind"] == "clip"], cells[cells["kind"] == "pairs"]
    assert set(clip["benchmark"]) == {"tiny"} and set(pairs["benchmark"]) == {"tinybench"}
    assert clip[["motion_error", "ssim", "psnr", "amplification_object"]].notna().all().all()
    assert pairs[["motion_error", "magnification_error", "motion_error_sem"]].notna().all().all()
    assert (pairs["pairs"] == 2).all() and pairs["data_fingerprint"].str.len().eq(64).all()
    assert cells["config_hash"].str.len().eq(16).all() and cells["code_version"].notna().all()
    table = (results / "tables" / "clips" / "motion_error_x4.md").read_text()
    assert "| linear" in table and "dis" in table
    assert " ± " in (results / "tables" / "tinybench" / "magnification_error_x4.md").read_text()
    sweep = pd.read_csv(results / "tables" / "tinysweep" / "ssim.csv", index_col=0)
    assert list(sweep.columns) == ["alpha", "linear", "phase", "input"] and len(sweep) == 2
    assert sweep["alpha"].tolist() == pytest.approx([40.0, 4.0])
    for video in ["tiny/side_by_side_x4.mp4", "tiny/phase_x4.mp4"]:
        with av.open(str(results / "videos" / video)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
    assert (results / "slices" / "tiny" / "x4.png").stat().st_size > 0
    for plot in ["clips/motion_error_vs_alpha.png", "tinybench/magnification_error_vs_alpha.png", "tinysweep/ssim.png"]:
        assert (results / "plots" / plot).stat().st_size > 0
    assert (results / "tables" / "tinysweep" / "ssim.html").stat().st_size > 0

    report = snakemake(tmp_path, "--report", str(results / "report.html"))
    assert report.returncode == 0, report.stderr[-2000:]
    assert (results / "report.html").stat().st_size > 10_000

    nothing = snakemake(tmp_path, "-n")
    assert "Nothing to be done" in nothing.stdout + nothing.stderr

    # a new alpha: one job per benchmark and method magnifies and scores every alpha, so each of
    # them runs again; the tables too; no sweep, no clip, no data
    more = copy.deepcopy(TINY_EVAL)
    more["alphas"] = [4, 8]
    jobs = planned_jobs(snakemake(tmp_path, "-n", config=more))
    assert jobs.get("magnify") == 2 and jobs.get("evaluate_cell") == 2
    assert jobs.get("magnify_pairs") == 2 and jobs.get("evaluate_pairs") == 2 and jobs.get("tables") == 1
    assert not {"evaluate_sweep", "sweep_table", "render_clip", "demo_pairs", "synth_shard"} & set(jobs)

    # one method parameter: that method's chain on every benchmark, and what gathers it
    changed = copy.deepcopy(TINY_EVAL)
    changed["methods"]["phase"]["sigma"] = 2.0
    jobs = planned_jobs(snakemake(tmp_path, "-n", config=changed))
    assert jobs.get("magnify") == 1 and jobs.get("evaluate_cell") == 1 and jobs.get("side_by_side") == 1
    assert jobs.get("magnify_pairs") == 1 and jobs.get("evaluate_pairs") == 1 and jobs.get("evaluate_sweep") == 1
    assert jobs.get("tables") == 1 and jobs.get("sweep_table") == 1
    assert not {"render_clip", "render_truth", "demo_pairs", "synth_shard", "synth_manifest"} & set(jobs)


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_paper_config_builds_the_whole_dag(tmp_path):
    """`snakemake --profile slurm -n` as the README types it, after its cluster set-up (`make
    cluster-profile`, here into a temporary config folder): config/paper.yaml from a bare
    checkout, every benchmark, method, flow model and alpha, both FlowMag training variants."""
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", XDG_CONFIG_HOME=str(tmp_path))
    (tmp_path / "snakemake").mkdir()
    (tmp_path / "snakemake" / "slurm").symlink_to(ROOT / "profiles" / "slurm")  # what make cluster-profile links
    assert "config/paper.yaml" in (ROOT / "profiles" / "slurm" / "config.yaml").read_text()
    result = subprocess.run(["snakemake", "--profile", "slurm", "-n", "--quiet", "rules"],
                            cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = planned_jobs(result)
    # one job per benchmark and method: every alpha under every flow model (10 methods, 3 clips,
    # 1 pair benchmark; one sweep job per method scores all 4 sweeps)
    assert jobs["magnify"] == jobs["evaluate_cell"] == 3 * 10
    assert jobs["magnify_pairs"] == jobs["evaluate_pairs"] == 10 and jobs["evaluate_sweep"] == 10
    assert jobs.get("download_dataset") or (ROOT / "resources" / "datasets" / "flowmag_test.zip").exists()
    # the real-datasets stage: every download, archive, frame index, statistics and shard job
    assert jobs["pair_stats"] == jobs["pair_shard"] == 346 and jobs["pair_manifest"] == 1
    assert jobs["frame_index"] == 5 and jobs["pair_candidates"] == 7 and jobs.get("uvo_videos") == 1
    assert jobs["extract_dataset"] >= 6 and jobs["train_flowmag"] == 2  # RAFT and ARFlow, on the rebuilt set


@pytest.mark.slow
def test_bad_benchmarks_fail_fast_naming_the_key(tmp_path):
    bad = copy.deepcopy(TINY_EVAL)
    bad["evaluation"]["pairs"]["tinybench"]["pairs"] = "nope"
    result = snakemake(tmp_path, "-n", config=bad)
    assert result.returncode != 0 and "config key evaluation.pairs.tinybench.pairs" in result.stderr + result.stdout
    clash = copy.deepcopy(TINY_EVAL)
    clash["evaluation"]["pairs"] = {"tiny": {"pairs": "tinypairs"}}  # the clip's name
    result = snakemake(tmp_path, "-n", config=clash)
    assert result.returncode != 0 and "a pair benchmark needs a name of its own" in result.stderr + result.stdout
    nosweep = copy.deepcopy(TINY_EVAL)
    nosweep["evaluation"]["sweeps"] = ["tinypairs"]
    result = snakemake(tmp_path, "-n", config=nosweep)
    assert result.returncode != 0 and "is not a synthetic set with a sweep" in result.stderr + result.stdout


@pytest.mark.slow
def test_weights_are_downloaded_verified_and_used_by_evaluation(tmp_path, http_server):
    """download_weights fetches from a (loopback) URL in the manifest, checks the sha256, and an
    evaluation cell under a network flow model waits for that file and loads it."""

    import torch

    from motionmag.flow import get_flow_model

    buffer = io.BytesIO()
    torch.manual_seed(0)
    torch.save(get_flow_model("raft-small", pretrained=False).net.state_dict(), buffer)
    payload = buffer.getvalue()
    http_server.files["/raft_small.pth"] = payload
    http_server.files["/bad.pth"] = payload[:-10] + b"0123456789"
    entries = {
        "raft-small": dict(file="raft_small.pth", url=http_server.url("/raft_small.pth"), format="torchvision",
                           sha256=hashlib.sha256(payload).hexdigest(), source="test", licence="BSD-3-Clause"),
        "raft-things": dict(file="bad.pth", url=http_server.url("/bad.pth"), format="torchvision",
                            sha256=hashlib.sha256(payload).hexdigest(), source="test", licence="BSD-3-Clause"),
    }
    (tmp_path / "weights.yaml").write_text(yaml.safe_dump(entries))
    config = copy.deepcopy(TINY)
    config["methods"] = {"linear": {"mode": "static"}}
    config["evaluation"]["flows"] = ["raft-small"]
    config["weights"] = {"manifest": str(tmp_path / "weights.yaml"), "dir": "resources/weights"}

    jobs = planned_jobs(snakemake(tmp_path, "-n", "results/eval/tiny/linear/raft-small/x4.csv", config=config))
    assert jobs.get("download_weights") == 1 and jobs.get("evaluate_cell") == 1

    run = snakemake(tmp_path, "--cores", "2", "results/eval/tiny/linear/raft-small/x4.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "resources" / "weights" / "raft_small.pth").read_bytes() == payload
    cell = pd.read_csv(tmp_path / "results" / "eval" / "tiny" / "linear" / "raft-small" / "x4.csv")
    assert cell["flow"].item() == "raft-small" and pd.notna(cell["motion_error"].item())

    bad = snakemake(tmp_path, "--cores", "1", "resources/weights/bad.pth")
    assert bad.returncode != 0
    assert not (tmp_path / "resources" / "weights" / "bad.pth").exists()
    log = (tmp_path / "logs" / "download_weights" / "bad.pth.log").read_text()
    assert "does not match" in log


@pytest.mark.slow
def test_a_released_test_split_is_downloaded_pinned_and_evaluated(tmp_path, http_server):
    """download_dataset fetches a FlowMag-style zip from a (loopback) URL, pins its digest (none
    is published), released_pairs reads it in place, and a pair benchmark scores it."""
    import zipfile

    import cv2
    import numpy as np

    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w") as zf:
        for k in range(3):
            frame = (rng.random((40, 60, 3)) * 255).astype(np.uint8)
            for folder, image in (("frameA", frame), ("frameB", np.roll(frame, 1, axis=1))):
                zf.writestr(f"test/{folder}/pair_{k}.png", cv2.imencode(".png", image)[1].tobytes())
        zf.writestr("test_fn.json", '["pair_2.png", "pair_0.png", "pair_1.png"]')
    http_server.files["/test.zip"] = buffer.getvalue()
    entry = dict(file="test.zip", url=http_server.url("/test.zip"), sha256=None, format="zip", source="test", licence="test only")
    (tmp_path / "datasets.yaml").write_text(yaml.safe_dump({"flowmag-test": entry}))
    config = copy.deepcopy(TINY)
    config["methods"] = {"linear": {"mode": "static"}}
    config["pairs"] = {"released": {"archive": "flowmag-test"}}
    config["evaluation"]["pairs"] = {"split": {"pairs": "released", "crop": 32}}
    config["datasets"] = {"manifest": str(tmp_path / "datasets.yaml"), "dir": "resources/datasets"}

    target = "results/eval/split/linear/dis/x4.csv"
    run = snakemake(tmp_path, "--cores", "2", target, config=config)
    assert run.returncode == 0, run.stderr[-3000:]
    archive = tmp_path / "resources" / "datasets" / "test.zip"
    assert archive.read_bytes() == buffer.getvalue()
    lock = json.loads((tmp_path / "resources" / "datasets" / "datasets.lock.json").read_text())
    assert lock["test.zip"]["sha256"] == hashlib.sha256(buffer.getvalue()).hexdigest()
    cell = pd.read_csv(tmp_path / target)
    assert cell["pairs"].item() == 3 and cell["motion_error"].item() > 0
    assert "Licence: test only" in (tmp_path / "logs" / "download_dataset" / "test.zip.log").read_text()


def with_tiny_flowmag(tmp_path: Path, val_every: int = 3) -> tuple[dict, dict]:
    """TINY plus a FlowMag variant trained for 3 steps on pairs of its clip (through lk, so no
    weights), written to tmp_path/fm.yaml; returns (training config, workflow config)."""
    training = {
        "name": "tiny", "model": {"width": 4, "levels": 3},
        "data": {"crop": 32, "batch_size": 2, "num_workers": 0, "val_pairs": 1},
        "train": {"steps": 3, "flow": "lk"}, "log": {"log_every": 1, "val_every": val_every, "checkpoint_every": 1},
    }
    (tmp_path / "fm.yaml").write_text(yaml.safe_dump(training))
    config = copy.deepcopy(TINY)
    config["pairs"] = {"tinyset": {"clips": ["tiny"], "spacings": [1, 2]}}
    config["training"] = {"flowmag": {"tiny": {"config": str(tmp_path / "fm.yaml"), "pairs": "results/pairs/tinyset.h5"}}}
    config["methods"]["flowmag"] = {"variant": "tiny", "batch_size": 2}
    return training, config


@pytest.mark.slow
def test_flowmag_is_trained_and_used_by_the_workflow(tmp_path):
    """pairs from a clip -> train_flowmag -> magnify with the trained model -> evaluated cells;
    changing the training config reruns the FlowMag chain only."""
    training, config = with_tiny_flowmag(tmp_path)

    run = snakemake(tmp_path, "--cores", "2", config=config)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    assert (results / "train" / "flowmag" / "tiny" / "loss.png").stat().st_size > 0
    assert len((results / "train" / "flowmag" / "tiny" / "log.csv").read_text().splitlines()) == 1 + 3 + 1
    cells = pd.read_csv(results / "tables" / "cells.csv")
    flowmag = cells[cells["method"] == "flowmag"]
    assert len(flowmag) == 1 and flowmag["checkpoint_sha256"].str.len().eq(64).all()
    assert flowmag[["motion_error", "ssim", "psnr"]].notna().all().all()
    assert "| flowmag" in (results / "tables" / "clips" / "motion_error_x4.md").read_text()
    with av.open(str(results / "videos" / "tiny" / "flowmag_x4.mp4")) as container:
        assert container.streams.video[0].frames == 6

    training["train"]["lr"] = 1.0e-3
    (tmp_path / "fm.yaml").write_text(yaml.safe_dump(training))
    jobs = planned_jobs(snakemake(tmp_path, "-n"))
    assert jobs.get("train_flowmag") == 1 and jobs.get("magnify") == 1 and jobs.get("evaluate_cell") == 1
    assert "demo_pairs" not in jobs and "render_clip" not in jobs

    config["methods"]["flowmag"]["variant"] = "nope"
    bad = snakemake(tmp_path, "-n", config=config)
    assert bad.returncode != 0 and "config key methods.flowmag.variant (read by rule magnify)" in bad.stderr + bad.stdout


@pytest.mark.slow
def test_oh2018_is_trained_and_used_by_the_workflow(tmp_path):
    """demo synthetic set -> train_synthetic -> magnify (temporal mode) -> evaluated cells; changing
    the synthetic set's seed reruns the Oh chain only."""
    training = {
        "name": "tiny", "data": {"crop": 16, "batch_size": 2, "num_workers": 0, "val_samples": 1},
        "train": {"steps": 3}, "log": {"log_every": 1, "val_every": 3, "checkpoint_every": 1},
    }
    (tmp_path / "oh.yaml").write_text(yaml.safe_dump(training))
    config = copy.deepcopy(TINY)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump({"name": "tiny", "size": 16, "objects": [1, 2]}))
    config["synthetic"] = {"tinysynth": {"recipe": str(tmp_path / "recipe.yaml"), "samples": 6, "shard_size": 3}}
    config["training"] = {"oh2018": {"tiny": {"config": str(tmp_path / "oh.yaml"), "data": "results/synthetic/tinysynth/manifest.json"}}}
    config["methods"]["oh2018"] = {"variant": "tiny", "mode": "temporal", "filter": "butter", "band": [1, 4], "batch_size": 2}

    run = snakemake(tmp_path, "--cores", "2", config=config)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    assert len((results / "train" / "oh2018" / "tiny" / "log.csv").read_text().splitlines()) == 1 + 3 + 1
    cells = pd.read_csv(results / "tables" / "cells.csv")
    oh = cells[cells["method"] == "oh2018"]
    assert len(oh) == 1 and oh["checkpoint_sha256"].str.len().eq(64).all()
    assert oh[["motion_error", "ssim", "psnr"]].notna().all().all()
    with av.open(str(results / "videos" / "tiny" / "oh2018_x4.mp4")) as container:
        assert container.streams.video[0].frames == 6
    assert (results / "synthetic" / "tinysynth" / "preview.png").is_file()

    # any shard can be regenerated alone, to the same bytes
    shard = results / "synthetic" / "tinysynth" / "shard-1.h5"
    before = shard.read_bytes()
    shard.unlink()
    target = str(shard.relative_to(tmp_path))
    assert planned_jobs(snakemake(tmp_path, "-n", target, config=config)) == {"synth_shard": 1}
    assert snakemake(tmp_path, "--cores", "2", target, config=config).returncode == 0
    assert shard.read_bytes() == before

    config["synthetic"]["tinysynth"]["samples"] = 7  # growing a set makes one new shard
    jobs = planned_jobs(snakemake(tmp_path, "-n", config=config))
    assert jobs.get("synth_shard") == 1 and jobs.get("synth_manifest") == 1

    config["synthetic"]["tinysynth"].update(samples=6, seed=1)
    jobs = planned_jobs(snakemake(tmp_path, "-n", config=config))
    assert jobs.get("synth_shard") == 2 and jobs.get("synth_manifest") == 1 and jobs.get("train_synthetic") == 1
    assert "synth_index" not in jobs and "train_flowmag" not in jobs
    assert jobs.get("magnify") == 1 and jobs.get("evaluate_cell") == 1 and "render_clip" not in jobs

    config["methods"]["oh2018"]["variant"] = "nope"
    bad = snakemake(tmp_path, "-n", config=config)
    assert bad.returncode != 0 and "config key methods.oh2018.variant (read by rule magnify)" in bad.stderr + bad.stdout


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_a_multi_node_variant_is_launched_by_srun_and_a_rendezvous(tmp_path):
    """nodes > 1 routes a variant to rule train_multinode: one SLURM job over the nodes, srun
    starting one torchrun per node, GPUs per node through slurm_extra (the mechanics are tested
    in test_oh2018's rendezvous test; a real multi-node cluster is not available here)."""
    (tmp_path / "fm.yaml").write_text(yaml.safe_dump({"name": "tiny", "train": {"steps": 3, "flow": "lk"}}))
    config = copy.deepcopy(TINY)
    config["pairs"] = {"tinyset": {"clips": ["tiny"]}}
    config["training"] = {"flowmag": {"big": {"config": str(tmp_path / "fm.yaml"), "pairs": "results/pairs/tinyset.h5",
                                              "gpus": 4, "nodes": 2}}}
    config["methods"]["flowmag"] = {"variant": "big"}
    result = snakemake(tmp_path, "-n", "-p", "results/train/flowmag/big/model.pt", config=config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert planned_jobs(result).get("train_multinode") == 1 and "train_flowmag" not in planned_jobs(result)
    command = result.stdout
    assert "srun -n 2 --ntasks-per-node=1" in command and "--nnodes 2 --nproc_per_node 4" in command
    assert "--rdzv_backend c10d" in command and "-m motionmag train flowmag" in command
    assert "--ntasks-per-node=1 --gpus-per-node=4" in command  # rule's slurm_extra, shown with its resources
