"""FlowMag inference: our streaming magnifier against the same generator run the original way.

    python bench/flowmag_speed.py speed  [--size 512] [--frames 9] [--repeats 3]
    python bench/flowmag_speed.py memory [--size 256] [--width 16] [--lengths 300 3000]
    python bench/flowmag_speed.py feather [--original-sizes 128 256 512]

speed: seconds per output frame, 2 threads, random weights (width 64 = the paper's generator):
  original = batch 1, fp32, NCHW, torch.no_grad, every output kept on the CPU until the end, then
             converted and written with OpenCV (mp4v), as inference.py does;
  ours     = FlowMagMagnifier: BatchNorm folded, channels-last, batches of 4, inference_mode,
             each frame written (H.264) as soon as it is made.
memory: peak RSS of each way over N frames, one fresh process per measurement.
feather: our feathering (one distance transform) on a 1080p mask against the original's
  --soft_mask (four pure-Python raster passes), timed at smaller sizes and scaled per pixel.
Prints JSON lines; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def synthetic_frames(n: int, size: int, seed: int = 0):
    """A smooth texture drifting by 0.3 px per frame (uint8 RGB), generated on the fly."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.random((size + 8, size + 8, 3)), (3, 3, 0))
    base = (base - base.min()) / (base.max() - base.min())
    for t in range(n):
        yield (ndimage.shift(base, (0, 0.3 * t, 0), order=1, mode="reflect")[4:-4, 4:-4] * 255).astype(np.uint8)


def make_checkpoint(folder: Path, width: int) -> Path:
    from motionmag.models.flowmag import FlowMagGenerator
    from motionmag.checkpoint import save_checkpoint

    torch.manual_seed(0)
    generator = FlowMagGenerator(width=width).eval()
    path = folder / f"flowmag_w{width}.pt"
    save_checkpoint(dict(kind="flowmag", generator=generator.config.to_dict(), state_dict=generator.state_dict(),
                         training=dict(flow="lk", flow_preset="train", alpha_low=1.0, alpha_high=16.0,
                                       weight_mag=1.0, weight_color=10.0, crop=512)), path)
    return path


def run_original(checkpoint: Path, frames, alpha: float, out: Path) -> int:
    """inference.py's loop: batch 1, fp32, all outputs kept, written with cv2 (mp4v) at the end."""
    import cv2

    from motionmag.methods.flowmag import load_flowmag

    model, _ = load_flowmag(checkpoint)
    results = []
    with torch.no_grad():
        frames = iter(frames)
        im0 = torch.from_numpy(next(frames)).permute(2, 0, 1)[None].float() / 255
        results.append(im0)
        for frame in frames:
            im1 = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
            results.append(model(im0, im1, alpha).cpu())
    saved = [(255 * img.squeeze().permute(1, 2, 0).flip([-1]).numpy()).astype(np.uint8) for img in results]
    h, w = saved[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30, (w, h))
    for frame in saved:
        writer.write(frame)
    writer.release()
    return len(saved)


def run_ours(checkpoint: Path, frames, alpha: float, out: Path, batch_size: int = 4) -> int:
    from motionmag.io import open_writer
    from motionmag.methods.flowmag import FlowMagMagnifier

    magnifier = FlowMagMagnifier(checkpoint, batch_size=batch_size)
    with torch.inference_mode(), open_writer(out, 30) as writer:
        for frame in magnifier.magnify(frames, alpha):
            writer.write(frame)
    return writer.frames_written


def speed(args) -> None:
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = make_checkpoint(tmp, args.width)
        frames = list(synthetic_frames(args.frames, args.size))
        times = {"original": [], "ours": []}
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both alike
            for name, run in (("original", run_original), ("ours", run_ours)):
                start = time.perf_counter()
                run(checkpoint, frames, 8.0, tmp / f"{name}.mp4")
                times[name].append((time.perf_counter() - start) / (args.frames - 1))
        medians = {k: statistics.median(v) for k, v in times.items()}
        print(json.dumps(dict(bench="speed", size=args.size, width=args.width, threads=args.threads, frames=args.frames,
                              repeats=args.repeats, s_per_frame=medians, all=times,
                              ratio=medians["ours"] / medians["original"])))


def memory_child(args) -> None:
    """One measurement in this process: peak RSS (ru_maxrss) after running one way."""
    torch.set_num_threads(args.threads)
    run = run_original if args.way == "original" else run_ours
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        n = run(Path(args.checkpoint), synthetic_frames(args.length, args.size), 8.0, Path(tmp) / "out.mp4")
    print(json.dumps(dict(way=args.way, frames=n, seconds=time.perf_counter() - start,
                          peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


def memory(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = make_checkpoint(Path(tmp), args.width)
        for length in args.lengths:
            for way in ("original", "ours"):
                out = subprocess.run([sys.executable, __file__, "_memory_child", "--way", way, "--length", str(length),
                                      "--size", str(args.size), "--checkpoint", str(checkpoint), "--threads", str(args.threads)],
                                     capture_output=True, text=True, check=True, env=os.environ)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                print(json.dumps(dict(bench="memory", size=args.size, width=args.width, length=length, **row)), flush=True)


def original_soft_mask(mask: torch.Tensor, n: int) -> torch.Tensor:
    """The original --soft_mask: city-block distance by four raster passes in Python, then < n."""
    h, w = mask.shape

    def closest_se(m):
        closest = torch.ones(m.shape) * float("inf")
        for i in range(1, h):
            for j in range(1, w):
                closest[i, j] = 0 if m[i, j] == 1 else min(closest[i, j - 1], closest[i - 1, j]) + 1
        return closest

    se, nw = closest_se(mask), closest_se(mask.flip((0, 1))).flip((0, 1))
    sw, ne = closest_se(mask.flip(0)).flip(0), closest_se(mask.flip(1)).flip(1)
    dist = torch.minimum(torch.minimum(se, nw), torch.minimum(sw, ne))
    return (dist < n).float()


def disc(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return ((yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 4) ** 2).astype(np.float32)


def feather_bench(args) -> None:
    from motionmag.io.masks import feather

    ours = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        feather(disc(1080, 1920), 25)
        ours.append(time.perf_counter() - start)
    print(json.dumps(dict(bench="feather", way="ours", size="1920x1080", seconds=statistics.median(ours), all=ours)))
    for size in args.original_sizes:
        start = time.perf_counter()
        original_soft_mask(torch.from_numpy(disc(size, size)), 25)
        seconds = time.perf_counter() - start
        print(json.dumps(dict(bench="feather", way="original", size=f"{size}x{size}", seconds=seconds,
                              us_per_pixel=seconds / size**2 * 1e6,
                              scaled_to_1080p_s=seconds / size**2 * 1920 * 1080)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("speed")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--frames", type=int, default=9)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=speed)
    p = commands.add_parser("memory")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--lengths", type=int, nargs="+", default=[300, 3000])
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=memory)
    p = commands.add_parser("_memory_child")
    p.add_argument("--way", choices=["original", "ours"])
    p.add_argument("--length", type=int)
    p.add_argument("--size", type=int)
    p.add_argument("--checkpoint")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(run=memory_child)
    p = commands.add_parser("feather")
    p.add_argument("--original-sizes", type=int, nargs="+", default=[128, 256])
    p.add_argument("--repeats", type=int, default=5)
    p.set_defaults(run=feather_bench)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
