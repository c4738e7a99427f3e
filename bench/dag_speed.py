"""How long Snakemake takes to plan config/paper.yaml: the whole DAG from a bare checkout, and
the "nothing to do" decision on complete results (target: under 10 s each, issue 8).

    python bench/dag_speed.py [--config config/paper.yaml] [--repeats 5]

Works in a fresh clone of this checkout (so nothing in results/ interferes). Complete results
are stood in for by empty files: every output the DAG lists is created, then `snakemake --touch`
orders their times as a real run would, so the no-op run does the same checks (existence,
mtimes, provenance records) on the same 800-odd files.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DIRECTORY_RULES = {"magnify", "render_clip", "render_truth", "import_clip"}  # directory() outputs


def snakemake(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "snakemake"), *args], cwd=cwd, capture_output=True, text=True, check=False)


def timed(cwd: Path, args: list[str], repeats: int) -> tuple[list[float], subprocess.CompletedProcess]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = snakemake(cwd, *args)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return times, result


def stand_in_results(cwd: Path, config: str) -> int:
    """Create every output of the DAG (empty), then let --touch order their times."""
    summary = snakemake(cwd, "--summary", "--configfile", config).stdout.splitlines()[1:]
    count = 0
    for line in summary:
        path, _, rule = line.split("\t")[:3]
        target = cwd / path
        if rule in DIRECTORY_RULES:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        count += 1
    touch = snakemake(cwd, "--touch", "--cores", "1", "--configfile", config)
    if touch.returncode != 0:
        sys.exit(f"snakemake --touch failed:\n{touch.stderr[-2000:]}")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/paper.yaml")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "motionmag"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        dry, result = timed(clone, ["-n", "--quiet", "rules", "--configfile", args.config], args.repeats)
        jobs = result.stdout.split("total")[-1].split()[0] if "total" in result.stdout else "?"
        outputs = stand_in_results(clone, args.config)
        noop, result = timed(clone, ["-n", "--configfile", args.config], args.repeats)
        if "Nothing to be done" not in result.stdout + result.stderr:
            sys.exit(f"the no-op run still plans jobs:\n{result.stdout[-2000:]}")
    for name, times, target in (("DAG build (dry run, bare checkout)", dry, 10.0), ("no-op decision (complete results)", noop, 10.0)):
        median = statistics.median(times)
        print(f"{name}: median {median:.2f} s of {len(times)} ({', '.join(f'{t:.2f}' for t in times)}); "
              f"target {target:.0f} s, ratio {median / target:.2f}")
    print(f"{args.config}: {jobs} jobs, {outputs} outputs")


if __name__ == "__main__":
    main()
