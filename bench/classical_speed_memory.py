"""Speed and peak memory of our linear and phase-based methods against PyPI `eulerian-magnification`
0.22 (every pyramid level amplified), side by side in one run on a real 960x544 clip, 2 threads.

The clip: the real twocats frames (../shared/data/twocats, 20 frames at 910x762) resized and
cropped to 960x544 and played forwards and backwards to 150 frames (real camera content; the
only real footage available offline). Each measurement is a fresh process (read, magnify, write
an MP4); the figure is the median of --repeats runs.

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        .venv/bin/python bench/classical_speed_memory.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
TWOCATS = ROOT.parent / "shared" / "data" / "twocats" / "frames"
WORK = ROOT / "results" / "bench"


def make_clip(path: Path, frames: int = 150) -> Path:
    from motionmag.io import open_video, open_writer

    real = [cv2.resize(f, (960, 804), interpolation=cv2.INTER_AREA)[130:674] for f in open_video(TWOCATS)]
    order = [i for _ in range(frames) for i in list(range(len(real))) + list(range(len(real) - 2, 0, -1))][:frames]
    with open_writer(path, 30, crf=16) as writer:
        for i in order:
            writer.write(real[i])
    return path


def measure(method: str, clip: Path, repeats: int, band=(0.4, 3.0), alpha=20.0) -> dict:
    runs = []
    for r in range(repeats):
        out = WORK / f"{method}_{r}.{'avi' if method == 'eulerian-magnification' else 'mp4'}"
        command = [sys.executable, str(ROOT / "bench" / "_measure.py"), method, str(clip), str(out),
                   "--alpha", str(alpha), "--band", *map(str, band)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return dict(method=method, fps=statistics.median(r["fps"] for r in runs),
                peak_rss_mb=statistics.median(r["peak_rss_mb"] for r in runs),
                import_rss_mb=statistics.median(r["import_rss_mb"] for r in runs),
                peak_anon_mb=statistics.median(r["peak_anon_mb"] for r in runs),
                runs=[round(r["fps"], 2) for r in runs], frames=runs[0]["frames"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["eulerian-magnification", "linear", "phase"])
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    clip = WORK / "twocats_960x544_150.mp4"
    if not clip.exists():
        make_clip(clip)
    rows = [measure(m, clip, args.repeats) for m in args.methods]
    base = next((r for r in rows if r["method"] == "eulerian-magnification"), None)
    print("| method | fps (median) | runs (fps) | peak RSS (MB) | of which libraries at import (MB) | peak private (MB) | speed vs eulerian-magnification |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['fps'] / base['fps']:.2f}x" if base else "-"
        print(f"| {r['method']} | {r['fps']:.2f} | {r['runs']} | {r['peak_rss_mb']:.0f} | {r['import_rss_mb']:.0f} | {r['peak_anon_mb']:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
