"""The Snakemake workflow: lint, format, fail-fast config errors, and a tiny end-to-end run."""

from __future__ import annotations

import copy
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


def snakemake(workdir: Path, *args: str, config: dict | None = None) -> subprocess.CompletedProcess:
    if config is not None:
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    command = [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(workdir / "config.yaml"), *args]
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


def test_bad_config_fails_fast_naming_key_and_rule(tmp_path):
    bad = copy.deepcopy(TINY)
    bad["methods"]["phase"]["orientations"] = 0
    result = snakemake(tmp_path, "-n", config=bad)
    assert result.returncode != 0
    assert "config key methods.phase.orientations (read by rule magnify)" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_tiny_workflow_end_to_end_and_incremental(tmp_path):
    run = snakemake(tmp_path, "--cores", "2", config=TINY)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    cells = pd.read_csv(results / "tables" / "cells.csv")
    assert len(cells) == 2 and set(cells["method"]) == {"linear", "phase"}
    assert cells[["motion_error", "ssim", "psnr", "amplification_object"]].notna().all().all()
    assert cells["config_hash"].str.len().eq(16).all() and cells["code_version"].notna().all()
    table = (results / "tables" / "motion_error_x4.md").read_text()
    assert "| linear" in table and "dis" in table
    for video in ["tiny/side_by_side_x4.mp4", "tiny/phase_x4.mp4"]:
        with av.open(str(results / "videos" / video)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
    assert (results / "slices" / "tiny" / "x4.png").stat().st_size > 0
    assert (results / "plots" / "motion_error_vs_alpha.png").stat().st_size > 0

    report = snakemake(tmp_path, "--report", str(results / "report.html"))
    assert report.returncode == 0, report.stderr[-2000:]
    assert (results / "report.html").stat().st_size > 10_000

    nothing = snakemake(tmp_path, "-n")
    assert "Nothing to be done" in nothing.stdout + nothing.stderr

    changed = copy.deepcopy(TINY)
    changed["methods"]["phase"]["sigma"] = 2.0
    jobs = planned_jobs(snakemake(tmp_path, "-n", config=changed))
    # only the phase chain and what gathers it reruns; the clip, its truth and linear stay
    assert jobs.get("magnify") == 1 and jobs.get("evaluate_cell") == 1 and jobs.get("encode_video") == 1
    assert "render_clip" not in jobs and "render_truth" not in jobs


@pytest.mark.slow
def test_weights_are_downloaded_verified_and_used_by_evaluation(tmp_path, http_server):
    """download_weights fetches from a (loopback) URL in the manifest, checks the sha256, and an
    evaluation cell under a network flow model waits for that file and loads it."""
    import hashlib
    import io

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
def test_flowmag_is_trained_and_used_by_the_workflow(tmp_path):
    """pairs from a clip -> train_flowmag -> magnify with the trained model -> evaluated cells;
    changing the training config reruns the FlowMag chain only."""
    training = {
        "name": "tiny", "model": {"width": 4, "levels": 3},
        "data": {"crop": 32, "batch_size": 2, "num_workers": 0, "val_pairs": 1},
        "train": {"steps": 3, "flow": "lk"}, "log": {"log_every": 1, "val_every": 3, "checkpoint_every": 1},
    }
    (tmp_path / "fm.yaml").write_text(yaml.safe_dump(training))
    config = copy.deepcopy(TINY)
    config["pairs"] = {"tinyset": {"clips": ["tiny"], "spacings": [1, 2]}}
    config["training"] = {"flowmag": {"tiny": {"config": str(tmp_path / "fm.yaml"), "pairs": "results/pairs/tinyset.h5"}}}
    config["methods"]["flowmag"] = {"variant": "tiny", "batch_size": 2}

    run = snakemake(tmp_path, "--cores", "2", config=config)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    assert (results / "train" / "flowmag" / "tiny" / "loss.png").stat().st_size > 0
    assert len((results / "train" / "flowmag" / "tiny" / "log.csv").read_text().splitlines()) == 1 + 3 + 1
    cells = pd.read_csv(results / "tables" / "cells.csv")
    flowmag = cells[cells["method"] == "flowmag"]
    assert len(flowmag) == 1 and flowmag["checkpoint_sha256"].str.len().eq(64).all()
    assert flowmag[["motion_error", "ssim", "psnr"]].notna().all().all()
    assert "| flowmag" in (results / "tables" / "motion_error_x4.md").read_text()
    with av.open(str(results / "videos" / "tiny" / "flowmag_x4.mp4")) as container:
        assert container.streams.video[0].frames == 6

    training["train"]["lr"] = 1.0e-3
    (tmp_path / "fm.yaml").write_text(yaml.safe_dump(training))
    jobs = planned_jobs(snakemake(tmp_path, "-n"))
    assert jobs.get("train_flowmag") == 1 and jobs.get("magnify") == 1 and jobs.get("evaluate_cell") == 1
    assert "demo_pairs" not in jobs and "render_clip" not in jobs

    config["methods"]["flowmag"]["variant"] = "nope"
    bad = snakemake(tmp_path, "-n", config=config)
    assert bad.returncode != 0 and "config key methods.flowmag.variant (read by magnify)" in bad.stderr + bad.stdout


@pytest.mark.slow
def test_oh2018_is_trained_and_used_by_the_workflow(tmp_path):
    """demo synthetic set -> train_oh2018 -> magnify (temporal mode) -> evaluated cells; changing
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
    assert jobs.get("synth_shard") == 2 and jobs.get("synth_manifest") == 1 and jobs.get("train_oh2018") == 1
    assert "synth_index" not in jobs and "train_flowmag" not in jobs
    assert jobs.get("magnify") == 1 and jobs.get("evaluate_cell") == 1 and "render_clip" not in jobs

    config["methods"]["oh2018"]["variant"] = "nope"
    bad = snakemake(tmp_path, "-n", config=config)
    assert bad.returncode != 0 and "config key methods.oh2018.variant (read by magnify)" in bad.stderr + bad.stdout
