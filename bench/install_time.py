"""Creating the demo's virtual environment: pip (the earlier Makefile) against uv (the Makefile now).

    python bench/install_time.py [--repeats 3]

Each run starts from an empty venv and empty package caches, as on a fresh machine, and installs
the project (`-e .`, what `make demo` needs) with its bytecode compiled, then checks that torch
imports. Prints one JSON line: seconds per run and the median of each way, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WAYS = {
    "pip": ["{python} -m pip install --quiet --upgrade pip", "{python} -m pip install --quiet -e {root}"],
    "uv": ["{python} -m pip install --quiet uv",
           "{bin}/uv pip install --quiet --compile-bytecode --python {python} -e {root}"],
}


def one_run(way: str, work: Path) -> float:
    venv = work / "venv"
    env = {**os.environ, "UV_CACHE_DIR": str(work / "uv-cache"), "PIP_NO_CACHE_DIR": "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for step in WAYS[way]:
        command = step.format(python=venv / "bin" / "python", bin=venv / "bin", root=ROOT)
        subprocess.run(command, shell=True, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    subprocess.run([str(venv / "bin" / "python"), "-c", "import torch, motionmag"], check=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.repeats):
        for way in WAYS:  # interleaved, so that a slower spell of the machine hits both
            work = Path(tempfile.mkdtemp(prefix=f"install-{way}-"))
            try:
                runs[way].append(round(one_run(way, work), 1))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    medians = {way: statistics.median(seconds) for way, seconds in runs.items()}
    print(json.dumps({"date": time.strftime("%Y-%m-%d"), "runs_s": runs, "median_s": medians,
                      "ratio_uv_to_pip": round(medians["uv"] / medians["pip"], 2)}))


if __name__ == "__main__":
    main()
