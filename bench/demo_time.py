"""`make demo` from a fresh clone, timed: installation, the workflow by stage (rule), the report.

    python bench/demo_time.py [--keep DIR]

Clones this checkout (committed state) into a temporary folder, then times `make .venv/.installed`
(creating the virtual environment, with empty package caches as on a fresh machine), `snakemake --cores 2` and `snakemake --report`, exactly what
`make demo` runs. Per rule: jobs, summed job seconds (jobs overlap on 2 cores, so these add up to
more than the wall time) and the wall-clock span from the first start to the last finish, read
from Snakemake's own log. Prints one JSON line; BENCHMARKS.md records it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^\[(\w{3} \w{3}\s+\d+ \d\d:\d\d:\d\d \d{4})\]")


def timed(command: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=None if env is None else {**os.environ, **env})
    return time.perf_counter() - start


def stages(log: Path) -> dict[str, dict]:
    """rule -> jobs, summed seconds, wall span, from a Snakemake log's timestamps."""
    now, rule_of, started, per_rule = None, {}, {}, defaultdict(lambda: dict(jobs=0, seconds=0.0, first=None, last=None))
    pending_rule = None
    for line in log.read_text().splitlines():
        if m := STAMP.match(line):
            now = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?rule (\w+):", line):
            pending_rule = m.group(1)
        elif (m := re.match(r"^\s+jobid: (\d+)", line)) and pending_rule:
            rule_of[m.group(1)], started[m.group(1)] = pending_rule, now
            pending_rule = None
        elif m := re.match(r"^Finished job(?:id)?:? (\d+)", line):
            job = m.group(1)
            if job in rule_of:
                stats = per_rule[rule_of[job]]
                stats["jobs"] += 1
                stats["seconds"] += (now - started[job]).total_seconds()
                stats["first"] = min(filter(None, [stats["first"], started[job]]))
                stats["last"] = max(filter(None, [stats["last"], now]))
    return {rule: dict(jobs=s["jobs"], job_seconds=round(s["seconds"]), span_s=round((s["last"] - s["first"]).total_seconds()))
            for rule, s in sorted(per_rule.items(), key=lambda kv: -kv[1]["seconds"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, help="clone here and keep it (default: a temporary folder, removed)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="motionmag-demo-"))
    clone = work / "motionmag"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    if (ROOT.parent / "shared").is_dir():  # the optional real clip, as beside a CI checkout
        (work / "shared").symlink_to(ROOT.parent / "shared")
    result = dict(date=time.strftime("%Y-%m-%d"), commit=subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone,
                  capture_output=True, text=True).stdout.strip())
    # as on a fresh machine: an empty package cache (uv's and pip's)
    cold = {"UV_CACHE_DIR": str(work / "uv-cache"), "PIP_NO_CACHE_DIR": "1"}
    result["install_s"] = round(timed(["make", ".venv/.installed"], clone, cold))
    shutil.rmtree(work / "uv-cache", ignore_errors=True)  # 3.5 GB; the venv's files are its own
    result["workflow_s"] = round(timed([".venv/bin/snakemake", "--cores", "2"], clone))
    result["report_s"] = round(timed([".venv/bin/snakemake", "--report", "results/report.html"], clone))
    result["total_s"] = result["install_s"] + result["workflow_s"] + result["report_s"]
    logs = sorted((clone / ".snakemake" / "log").glob("*.snakemake.log"))
    result["jobs"] = sum(s["jobs"] for s in stages(logs[0]).values()) if logs else None
    result["stages"] = stages(logs[0]) if logs else {}
    print(json.dumps(result))
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
