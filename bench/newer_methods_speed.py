"""The newer learned magnifiers beside Oh et al. 2018 on this CPU: inference speed and peak memory.

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 OMP_NUM_THREADS=2 \\
        python bench/newer_methods_speed.py [--repeats 3] [--frames 2] [--methods oh2018 axial eulermormer stbvmm]

For each method (random weights from seed 0, written in the original's checkpoint layout and
loaded through its Magnifier, 2 threads), each measurement in a fresh process:
  pair_384   seconds for one 384x384 pair through the network's two-frame call net(a, b, 10)
             (both frames encoded, the manipulator, the decoder), under inference_mode;
  frame_960  seconds per output frame of the magnifier in static mode on 960x544 uint8 frames
             (one encoder pass per frame, frame 0's shape kept; batch_size 1, the CPU default),
             frame conversion included;
  peak RSS   VmHWM from /proc/self/status at the end of that process (the network, its weights and
             the largest activations; Python and torch themselves about 300 MB).
Each time is the median of --repeats runs after one warm-up run. Prints one JSON line per
measurement, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oh2018_speed import frames_960  # noqa: E402  (the same 960x544 swaying texture)

METHODS = ("oh2018", "axial", "eulermormer", "stbvmm")
ALPHA = 10.0


def write_checkpoints(folder: Path, methods) -> dict[str, Path]:
    """Random weights (seed 0) in each method's file layout, written once by the parent."""
    from motionmag.checkpoint import save_checkpoint

    paths = {}
    for method in methods:
        torch.manual_seed(0)
        if method == "oh2018":
            from motionmag.models.oh2018 import OhMagNet

            paths[method] = folder / "oh2018.pt"
            save_checkpoint(dict(kind="oh2018", state_dict=OhMagNet().state_dict(), training={}), paths[method])
        elif method == "axial":
            from motionmag.models.axial import build_axial

            paths[method] = folder / "axial_mm.tar"
            torch.save({"epoch": 50, "model_state_dict": build_axial().state_dict(), "optimizer_state_dict": {}}, paths[method])
        elif method == "eulermormer":
            from motionmag.models.eulermormer import build_eulermormer

            paths[method] = folder / "magnet_epoch99.pth"
            torch.save(build_eulermormer().state_dict(), paths[method])
        elif method == "stbvmm":
            from motionmag.models.stbvmm import build_stbvmm

            paths[method] = folder / "ckpt_e49.pth.tar"
            torch.save({"epoch": 50, "state_dict": build_stbvmm().state_dict()}, paths[method])
    return paths


def peak_rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(args) -> None:
    from motionmag.methods import get_magnifier

    torch.set_num_threads(2)
    magnifier = get_magnifier(args.child, checkpoint=args.checkpoint, batch_size=1)
    runs = []
    if args.measure == "pair_384":
        torch.manual_seed(1)
        a, b = torch.rand(2, 1, 3, 384, 384)
        with torch.inference_mode():
            magnifier.net(a, b, ALPHA)  # warm-up
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                magnifier.net(a, b, ALPHA)
                runs.append(time.perf_counter() - t0)
    else:
        frames = list(frames_960(args.frames))
        list(magnifier.magnify(iter(frames[:1]), ALPHA))  # warm-up
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in magnifier.magnify(iter(frames), ALPHA):
                pass
            runs.append((time.perf_counter() - t0) / len(frames))
    params = sum(p.numel() for p in magnifier.net.parameters())
    print(json.dumps(dict(bench="newer_methods_speed", method=args.child, measure=args.measure, seconds=statistics.median(runs),
                          runs=runs, peak_rss_mb=round(peak_rss_mb()), parameters=params, threads=torch.get_num_threads())))


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up (median reported)")
    parser.add_argument("--frames", type=int, default=2, help="960x544 frames per timed run")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["pair_384", "frame_960"], help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        checkpoints = write_checkpoints(Path(tmp), args.methods)
        for method in args.methods:
            for measure in ("pair_384", "frame_960"):
                run = subprocess.run([sys.executable, __file__, "--child", method, "--measure", measure, "--checkpoint",
                                      str(checkpoints[method]), "--repeats", str(args.repeats), "--frames", str(args.frames)],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"{method} {measure} failed:\n{run.stderr[-2000:]}")
                line = run.stdout.strip().splitlines()[-1]
                print(line, flush=True)
                results[method, measure] = json.loads(line)
    malloc = " ".join(f"{k}={os.environ[k]}" for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")
                      if k in os.environ) or "default malloc settings"
    print(f"\n{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, 2 threads, {malloc}; "
          f"median of {args.repeats} runs after a warm-up; random weights; peak RSS = VmHWM of a fresh process per cell\n")
    print("| method | parameters | s / 384x384 pair | peak RSS | s / 960x544 frame (static) | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    for method in args.methods:
        pair, frame = results[method, "pair_384"], results[method, "frame_960"]
        print(f"| {method} | {pair['parameters']:,} | {pair['seconds']:.3f} | {pair['peak_rss_mb']:,} MB | "
              f"{frame['seconds']:.2f} | {frame['peak_rss_mb']:,} MB |")


if __name__ == "__main__":
    main()
