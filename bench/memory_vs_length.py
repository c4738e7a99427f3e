"""Peak memory against video length: magnify a short and a 10x longer 1080p clip, fresh process each.

The clips are a textured 1920x1080 image moving sub-pixel (H.264, 30 fps). Peak RSS of the long
run should equal the short one's within 10 % (streaming: memory is bounded by the method's
temporal window, never by the number of frames).

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        .venv/bin/python bench/memory_vs_length.py --method linear --frames 100 1000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage import data
from skimage.transform import resize

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "results" / "bench"


def make_clip(path: Path, frames: int) -> None:
    from motionmag.io import open_writer

    texture = resize(data.astronaut(), (1080, 1920), anti_aliasing=True).astype(np.float32)
    shifts = [(0.3 * np.sin(2 * np.pi * t / 30), 0.0) for t in range(30)]  # one period, reused
    cycle = [np.stack([ndimage.shift(texture[..., c], s, order=1, mode="nearest") for c in range(3)], -1) for s in shifts]
    with open_writer(path, 30, crf=20) as writer:
        for t in range(frames):
            writer.write(cycle[t % 30])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", default="linear")
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.frames:
        clip = WORK / f"moving_1080p_{n}.mp4"
        if not clip.exists():
            make_clip(clip, n)
        command = [sys.executable, str(ROOT / "bench" / "_measure.py"), args.method, str(clip), str(WORK / f"out_{args.method}_{n}.mp4"), "--alpha", "10"]
        results.append(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]))
    print("| method | frames | fps | peak RSS (MB) | vs shortest | peak private (MB) | vs shortest |")
    print("|---|---|---|---|---|---|---|")
    first = results[0]
    for r in results:
        print(f"| {r['method']} | {r['frames']} | {r['fps']:.2f} | {r['peak_rss_mb']:.0f} | {r['peak_rss_mb'] / first['peak_rss_mb']:.3f} "
              f"| {r['peak_anon_mb']:.0f} | {r['peak_anon_mb'] / first['peak_anon_mb']:.3f} |")


if __name__ == "__main__":
    main()
