"""Oh et al. 2018 inference: speed, and the memory of temporal FIR filtering.

    python bench/oh2018_speed.py speed  [--repeats 5] [--frames 8]
    python bench/oh2018_speed.py memory --way ours|original [--frames 300] [--taps 31] [--batch 4]

speed (random weights, the official 918,928-parameter network, 2 threads, inference_mode):
  pair_384   seconds for one 384x384 pair through the whole network (two encoder passes, the
             manipulator, the decoder), as in training and the paper's setting;
  frame_960  seconds per output frame of Oh2018Magnifier in static mode on 960x544 frames (one
             encoder pass per frame: frame 0's shape is kept), batches of 4.
memory: peak RSS of temporal FIR magnification over N frames at 960x544, in a fresh process:
  ours      Oh2018Magnifier(mode="temporal", filter="fir"): a window of ``taps`` shape maps;
  original  the original's run_temporal: every frame's shape (and texture) kept, the whole clip
            filtered at once in the Fourier domain, then decoded (here 4 frames are decoded: the
            peak is reached at the filtering step, decoding the rest only takes time).
Prints JSON lines; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy import signal

H, W, FPS, BAND = 544, 960, 30.0, (2.0, 5.0)


def frames_960(n: int, seed: int = 0):
    """A smooth texture with a small sinusoidal sway (uint8 RGB 960x544), generated on the fly."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.random((H + 8, W + 8, 3)).astype(np.float32), (3, 3, 0))
    base = (base - base.min()) / (base.max() - base.min())
    for t in range(n):
        dx = 0.3 * np.sin(2 * np.pi * 3.0 * t / FPS)
        yield (ndimage.shift(base, (0, dx, 0), order=1, mode="reflect")[4:-4, 4:-4] * 255).astype(np.uint8)


def make_checkpoint(folder: Path) -> Path:
    from motionmag.models.oh2018 import OhMagNet
    from motionmag.checkpoint import save_checkpoint

    torch.manual_seed(0)
    path = folder / "oh2018.pt"
    save_checkpoint(dict(kind="oh2018", state_dict=OhMagNet().state_dict(), training={}), path)
    return path


def speed(args) -> None:
    from motionmag.methods.oh2018 import Oh2018Magnifier
    from motionmag.models.oh2018 import OhMagNet

    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = OhMagNet().eval()
    a, b = torch.rand(2, 1, 3, 384, 384)
    pair = []
    with torch.inference_mode():
        net(a, b, 10.0)
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            net(a, b, 10.0)
            pair.append(time.perf_counter() - t0)
    frames = list(frames_960(args.frames))
    with tempfile.TemporaryDirectory() as tmp:
        magnifier = Oh2018Magnifier(make_checkpoint(Path(tmp)), batch_size=4)
        list(magnifier.magnify(iter(frames[:4]), 10.0))  # warm-up
        per_frame = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in magnifier.magnify(iter(frames), 10.0):
                pass
            per_frame.append((time.perf_counter() - t0) / len(frames))
    print(json.dumps(dict(bench="oh2018_speed", threads=2, pair_384_s=statistics.median(pair), pair_384_runs=pair,
                          frame_960_s=statistics.median(per_frame), frame_960_runs=per_frame, frames=len(frames))))


def memory_ours(checkpoint: Path, n: int, taps: int, batch: int = 4) -> int:
    from motionmag.methods.oh2018 import Oh2018Magnifier

    magnifier = Oh2018Magnifier(checkpoint, mode="temporal", filter="fir", band=BAND, fps=FPS, taps=taps, batch_size=batch)
    count = 0
    for _ in magnifier.magnify(frames_960(n), 10.0):
        count += 1
    return count


def memory_original(checkpoint: Path, n: int, taps: int, batch: int = 1) -> int:
    """run_temporal's fir path: keep every shape map, filter the whole clip by FFT, then decode."""
    from motionmag.methods.oh2018 import load_oh2018

    net, _ = load_oh2018(checkpoint)
    textures, shapes = [], []
    with torch.inference_mode():
        for frame in frames_960(n):
            x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
            texture, shape = net.encode(x)
            textures.append(texture)
            shapes.append(shape)
        stack = torch.cat(shapes)  # (T, 32, H/2, W/2): about 5 GB at 300 frames
        fir = signal.firwin(taps, BAND, pass_zero=False, fs=FPS)
        response = torch.from_numpy(np.fft.rfft(fir, n=len(stack))).to(torch.complex64)
        filtered = torch.fft.irfft(torch.fft.rfft(stack, dim=0) * response.view(-1, 1, 1, 1), n=len(stack), dim=0)
        for t in range(4):
            net.decode(textures[t], shapes[-1] + net.manipulator.delta(filtered[t : t + 1], torch.tensor(10.0)), (H, W))
    return n


def memory(args) -> None:
    if args.child:
        torch.set_num_threads(2)
        run = memory_ours if args.way == "ours" else memory_original
        t0 = time.perf_counter()
        count = run(Path(args.child), args.frames, args.taps, args.batch)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(dict(bench="oh2018_fir_memory", way=args.way, frames=count, taps=args.taps, batch=args.batch, size=f"{W}x{H}",
                              peak_rss_mb=round(peak_mb), seconds=round(time.perf_counter() - t0, 1))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = make_checkpoint(Path(tmp))
        subprocess.run([sys.executable, __file__, "memory", "--way", args.way, "--frames", str(args.frames),
                        "--taps", str(args.taps), "--batch", str(args.batch), "--child", str(checkpoint)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--repeats", type=int, default=5)
    s.add_argument("--frames", type=int, default=8)
    s.set_defaults(run=speed)
    m = sub.add_parser("memory")
    m.add_argument("--way", choices=["ours", "original"], required=True)
    m.add_argument("--frames", type=int, default=300)
    m.add_argument("--taps", type=int, default=31)
    m.add_argument("--batch", type=int, default=4, help="ours: frames per forward pass")
    m.add_argument("--child", help=argparse.SUPPRESS)
    m.set_defaults(run=memory)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
