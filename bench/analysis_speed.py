"""Motion analysis (issue 21): time and peak memory of ``motionmag.analysis.analyze`` on the baby clip.

300 frames of the real baby clip (``../shared/data/baby/baby.mp4``, 960x544, 299 frames at 30 fps,
played forwards then one frame back: 0..298, 297), at 960x544 and upscaled to 1920x1080
(``cv2.resize``, bicubic, inside the frame generator), phase estimator, the default 3x3 grid, with
and without stabilisation (translation, fitted on the whole frame, as ``--stabilize``). The
baseline is decoding the same frames (and resizing them, at 1080p) without analysing them, so the
ratio analysis / decoding shows what the analysis itself costs.

Each run is a fresh process; its peak memory is ``VmHWM`` (peak resident set) from
/proc/self/status at the end, and ``VmHWM`` just before the pass (libraries and imports) is
reported beside it. Figures are medians of ``--repeats`` runs.

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \\
        .venv/bin/python bench/analysis_speed.py --repeats 3 --json results/bench/analysis_speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "baby" / "baby.mp4"
FRAMES = 300
SIZES = {"960x544": None, "1920x1080": (1920, 1080)}
# (name, size, what): what is "decode" (the baseline) or a stabilisation model or "none"
CASES = [
    ("decode", "960x544", "decode"),
    ("analysis", "960x544", "none"),
    ("analysis --stabilize", "960x544", "translation"),
    ("decode + resize", "1920x1080", "decode"),
    ("analysis", "1920x1080", "none"),
    ("analysis --stabilize", "1920x1080", "translation"),
]


def vm_hwm_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def frames(path: Path, count: int, size):
    """``count`` frames of the clip, forwards then backwards (ping-pong), resized to ``size``."""
    import cv2

    from motionmag.io import open_video

    reader = open_video(path)
    total = len(reader)
    extra = max(0, count - total)
    tail = []  # the last frames, for the way back
    produced = 0
    for frame in reader:
        if produced == count:
            return
        if extra:
            tail = (tail + [frame])[-(extra + 1):]
        yield frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
        produced += 1
    for frame in reversed(tail[:-1]):
        if produced == count:
            return
        yield frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
        produced += 1


def one(size_name: str, what: str, clip: Path, count: int) -> dict:
    """One measurement, in this (fresh) process."""
    import cv2  # noqa: F401 - imports before the baseline memory figure
    import numpy  # noqa: F401
    import scipy.signal  # noqa: F401

    from motionmag.analysis import analyze
    from motionmag.io import open_video

    fps = float(open_video(clip).info.fps)
    before = vm_hwm_mb()
    start = time.perf_counter()
    cpu = time.process_time()
    stream = frames(clip, count, SIZES[size_name])
    if what == "decode":
        n = sum(1 for _ in stream)
        band = None
    else:
        result = analyze(stream, fps, None, stabilize=None if what == "none" else what, num_frames=count)
        n = result.num_frames
        band = result.band
    return {
        "size": size_name,
        "what": what,
        "frames": n,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "vmhwm_mb": vm_hwm_mb(),
        "vmhwm_before_mb": before,
        "band": band,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument("--json", type=Path, help="also write every run here")
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.clip, args.frames)))
        return

    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeats):  # interleaved, so that a change in the machine's load spreads over every case
        for _name, size, what in CASES:
            command = [sys.executable, __file__, "--one", size, what, "--clip", str(args.clip), "--frames", str(args.frames)]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            runs.setdefault((size, what), []).append(json.loads(out))
            print(f"# {size} {what}: {runs[(size, what)][-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({f"{s} {w}": r for (s, w), r in runs.items()}, indent=1))

    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    print("| size | run | wall s (median) | runs (s) | CPU s | ms / frame | vs decoding | peak RSS VmHWM (MB) | of which before the pass (MB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, size, what in CASES:
        rows = runs[(size, what)]
        seconds = med(rows, "seconds")
        decode = med(runs[(size, "decode")], "seconds")
        ratio = "1.00x (baseline)" if what == "decode" else f"{seconds / decode:.1f}x"
        print(f"| {size} | {name} | {seconds:.1f} | {', '.join('%.1f' % r['seconds'] for r in rows)} | {med(rows, 'cpu_seconds'):.1f} "
              f"| {1000 * seconds / rows[0]['frames']:.0f} | {ratio} | {med(rows, 'vmhwm_mb'):.0f} | {med(rows, 'vmhwm_before_mb'):.0f} |")
    bands = {f"{s} {w}": r[0]["band"] for (s, w), r in runs.items() if w != "decode"}
    print(f"\nsuggested bands: {bands}")


if __name__ == "__main__":
    main()
