"""profiles/slurm through a real single-node SLURM cluster (../shared/tools/slurm_local_cluster.sh:
slurmctld, slurmd, slurmdbd for sacct, two fake GPUs). Needs root and apt-get; CI sets
MOTIONMAG_REQUIRE_SLURM=1 so that it fails there rather than skips."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from test_workflow import planned_jobs, with_tiny_flowmag

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT.parent / "shared" / "tools" / "slurm_local_cluster.sh"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def cluster():
    missing = [what for what, ok in (("root", os.geteuid() == 0), ("apt-get", shutil.which("apt-get")),
                                     (str(CLUSTER), CLUSTER.is_file())) if not ok]
    if missing:
        if os.environ.get("MOTIONMAG_REQUIRE_SLURM"):
            pytest.fail(f"the SLURM test needs {', '.join(missing)}")
        pytest.skip(f"the SLURM test needs {', '.join(missing)} (CI has them)")
    env = dict(os.environ, SLURM_LOCAL_GPUS="2")
    up = subprocess.run(["bash", str(CLUSTER), "up"], env=env, capture_output=True, text=True, timeout=600)
    assert up.returncode == 0, up.stderr[-3000:]
    yield
    subprocess.run(["bash", str(CLUSTER), "stop"], env=env, capture_output=True, timeout=300)


def local_profile(tmp_path: Path) -> Path:
    """profiles/slurm with the local cluster's partition and account, sizes that fit its one
    2-CPU node, and quick status checks; everything else (retries, groups, signals) as shipped."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    # one CPU per job, so that the node's two CPUs run two jobs at a time
    profile["set-threads"] = {rule: 1 for rule in ("magnify", "magnify_pairs", "evaluate_cell", "evaluate_pairs",
                                                   "evaluate_sweep", "train_flowmag", "train_synthetic", "synth_shard")}
    profile["set-resources"] = {
        rule: {k: v for k, v in settings.items() if k == "slurm_extra"} | {"mem_mb": "500 * attempt", "runtime": 10}
        for rule, settings in profile["set-resources"].items()
    }
    profile.update({"jobs": 4, "cores": 2, "latency-wait": 5, "slurm-init-seconds-before-status-checks": 2,
                    "seconds-between-status-checks": 2, "max-status-checks-per-second": 1,
                    "default-resources": {"slurm_partition": "debug", "slurm_account": "root", "mem_mb": 500,
                                          "runtime": 10}})
    # the test's workflow: this checkout's Snakefile on the tiny config in tmp_path (the shipped
    # profile names config/paper.yaml)
    profile.update({"snakefile": str(ROOT / "Snakefile"), "configfile": str(tmp_path / "config.yaml")})
    # where `make cluster-profile` puts it, under a temporary XDG_CONFIG_HOME
    config_home = tmp_path / "xdg"
    folder = config_home / "snakemake" / "slurm"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return config_home


def sacct(since: str) -> list[dict]:
    """The jobs submitted since ``since`` (sacct -S also lists older jobs still running then)."""
    out = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "-S", since,
                          "-o", "JobID,Submit,Comment%200,AllocTRES%80,State"], capture_output=True, text=True, check=True).stdout
    jobs = [dict(zip(("id", "submit", "comment", "tres", "state"), line.split("|"))) for line in out.splitlines() if line]
    return [job for job in jobs if job["submit"] >= since]


def run_on_cluster(workdir: Path, config_home: Path, *args: str, wait: bool = True):
    """`snakemake --profile slurm` as the README types it, in ``workdir``."""
    command = ["timeout", "-s", "INT", "-k", "60", "600", "snakemake", "--profile", "slurm", *args]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", XDG_CONFIG_HOME=str(config_home))
    if wait:
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=workdir)


GROUPS = ("report", "videos")  # profiles/slurm's groups of small jobs


def rules_of(jobs: list[dict]) -> list[str]:
    """Rule names from the executor plugin's job comments (rule_<name>_wildcards_<values>), or
    group:<name> for a group job (rule_<group>_<its rules>)."""
    names = []
    for job in jobs:
        body = job["comment"].removeprefix("rule_")
        group = next((g for g in GROUPS if body.startswith(f"{g}_")), None)
        names.append(f"group:{group}" if group else body.split("_wildcards")[0])
    return names


def test_the_workflow_runs_on_slurm_reruns_one_chain_and_recovers_a_killed_job(cluster, tmp_path):
    training, config = with_tiny_flowmag(tmp_path, val_every=1000)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    profile = local_profile(tmp_path)

    # 1. everything through sbatch, GPU rules on the declared GPUs, all COMPLETED in sacct
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    first = run_on_cluster(tmp_path, profile)
    assert first.returncode == 0, first.stderr[-4000:]
    jobs = sacct(since)
    assert jobs and all(job["state"] == "COMPLETED" for job in jobs), jobs
    ran = rules_of(jobs)
    for rule in ("render_clip", "render_truth", "demo_pairs", "train_flowmag", "magnify", "evaluate_cell", "tables"):
        assert rule in ran, (rule, ran)
    assert "group:videos" in ran, ran  # small jobs went in groups (this config has no sweep or preview for "report")
    gpu = {j["comment"] for j in jobs if "gres/gpu=1" in j["tres"]}
    assert any(c.startswith("rule_train_flowmag") for c in gpu) and any("flowmag" in c and c.startswith("rule_magnify") for c in gpu)
    assert not any("linear" in c or "phase" in c for c in gpu), gpu  # classical methods get no GPU
    assert (tmp_path / "results" / "tables" / "clips" / "motion_error_x4.md").is_file()

    # 2. a changed training config plans the FlowMag chain only; its training job, sent SIGTERM
    #    mid-run as preemption and time limits do, saves its state and fails; the profile's
    #    retries resubmit it and it resumes. (A plain `scancel` would leave the job "CANCELLED by
    #    <uid>", a state executor plugin 2.8.0 does not recognise, so Snakemake would wait on it.)
    training["train"]["steps"] = 40
    (tmp_path / "fm.yaml").write_text(yaml.safe_dump(training))
    plan = run_on_cluster(tmp_path, profile, "-n")
    assert plan.returncode == 0, plan.stderr[-3000:]
    planned = planned_jobs(plan)
    assert planned.get("train_flowmag") == 1 and planned.get("magnify") == 1 and planned.get("evaluate_cell") == 1, planned
    assert not {"render_clip", "render_truth", "demo_pairs"} & set(planned), planned
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    model = "results/train/flowmag/tiny/model.pt"  # the rest of the chain is as in part 1
    second = run_on_cluster(tmp_path, profile, model, wait=False)
    try:
        state = tmp_path / "results" / "train" / "flowmag" / "tiny" / "state" / "latest.pt"
        deadline = time.time() + 300
        while time.time() < deadline and second.poll() is None:
            if state.exists() and torch.load(state, weights_only=False).get("step", 0) >= 8:  # past run 1's 3
                break
            time.sleep(0.3)
        # squeue asks slurmctld itself (sacct learns of a running job only later)
        queue = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i|%k"], capture_output=True, text=True, check=True).stdout
        training_jobs = [line.split("|")[0] for line in queue.splitlines() if "|rule_train_flowmag" in line]
        assert training_jobs, f"the training job was not seen running: {queue}"
        subprocess.run(["scancel", "--signal=TERM", training_jobs[0]], check=True)
        output, _ = second.communicate(timeout=600)
    finally:
        if second.poll() is None:  # a failed assertion: cancel the run's jobs (SIGINT: scancel)
            second.send_signal(signal.SIGINT)
            second.wait(timeout=120)
    assert second.returncode == 0, output[-4000:]
    jobs = sacct(since)
    states = [(name, job["state"]) for name, job in zip(rules_of(jobs), jobs)]
    assert [s for n, s in states if n == "train_flowmag"] == ["FAILED", "COMPLETED"], states
    retried = [j for n, j in zip(rules_of(jobs), jobs) if n == "train_flowmag"][-1]
    assert "mem=1000M" in retried["tres"], retried  # the retry asked for 2 x 500 MB
    assert set(rules_of(jobs)) == {"train_flowmag"}, states
    log = (tmp_path / "logs" / "train_flowmag" / "tiny.log").read_text()  # the last attempt's
    resumed = [int(m) for m in re.findall(r"resuming from step (\d+)", log)]
    assert resumed and resumed[-1] >= 8, log[-2000:]

    # the resumed run ends where an uninterrupted one does (with the job's one thread: CPU
    # reductions split over other thread counts round differently)
    reference = subprocess.run([sys.executable, "-m", "motionmag", "train", "flowmag", str(tmp_path / "fm.yaml"),
                                "--pairs", str(tmp_path / "results" / "pairs" / "tinyset.h5"), "-o", str(tmp_path / "ref"),
                                "--device", "cpu", "-q"], capture_output=True, text=True, cwd=tmp_path,
                               env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert reference.returncode == 0, reference.stderr[-2000:]
    a = torch.load(tmp_path / "ref" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "results" / "train" / "flowmag" / "tiny" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
