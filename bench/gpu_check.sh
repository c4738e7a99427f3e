#!/usr/bin/env bash
# The GPU check (issue: fidelity): run on a lent GPU machine from the repo root, within 8 minutes.
#   bash bench/gpu_check.sh [OUT_DIR]      (default results/gpu_check; the device tool's $OUT)
# Uses .venv where there is one, else the machine's python3 with torch (a lent GPU machine has
# its own; motionmag's other packages travel as wheels or are already there), then runs bench/gpu_check.py: CUDA tests, bf16 against fp32 for
# FlowMag and Oh 2018, FlowMag 1080p frames per second, training samples per second through RAFT,
# phase and linear at 1080p. BENCHMARKS.md records what it printed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-${OUT:-results/gpu_check}}"
PY=python3
if test -x .venv/bin/python; then PY=.venv/bin/python; else export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"; fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 460 "$PY" bench/gpu_check.py --out "$OUT"
