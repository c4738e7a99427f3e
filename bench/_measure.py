"""Run one magnification end to end (read, magnify, write) and print JSON: seconds, frames, peak RSS.

    python bench/_measure.py {linear,phase,eulerian-magnification} INPUT OUTPUT [--band LOW HIGH] [--alpha A]

Run in a fresh process per measurement so that peak RSS (ru_maxrss) belongs to that run alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time

import torch


class AnonymousPeak(threading.Thread):
    """Samples RssAnon (private memory, no shared libraries) every 10 ms; keeps the maximum."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_mb = 0.0

    @staticmethod
    def current_mb() -> float:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def run(self):
        while True:
            self.peak_mb = max(self.peak_mb, self.current_mb())
            time.sleep(0.01)


def ours(method: str, path: str, output: str, alpha: float, band) -> int:
    from motionmag.io import open_video, open_writer
    from motionmag.methods import get_magnifier

    reader = open_video(path)
    settings = dict(mode="temporal", band=band, fps=float(reader.info.fps)) if band else dict(mode="static")
    magnifier = get_magnifier(method, **settings)
    with open_writer(output, reader.info.fps) as writer:
        for frame in magnifier.magnify(reader, alpha):
            writer.write(frame)
    return writer.frames_written


def eulerian_magnification_package(path: str, output: str, alpha: float, band) -> int:
    """PyPI eulerian-magnification 0.22, every pyramid level amplified (skip_levels_at_top=0)."""
    import eulerian_magnification as em
    from eulerian_magnification.io import save_video

    video, fps = em.io.load_video_float(path)
    result = em.eulerian_magnification(video, fps, band[0], band[1], alpha - 1, pyramid_levels=4, skip_levels_at_top=0)
    save_video(result, fps, output)
    return len(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("method")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--alpha", type=float, default=20.0)
    parser.add_argument("--band", type=float, nargs=2)
    args = parser.parse_args()
    torch.set_num_threads(2)
    import cv2  # noqa: F401 - imported before the baseline so it counts as library, not working memory
    import motionmag.methods  # noqa: F401

    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampler = AnonymousPeak()
    sampler.start()
    start = time.perf_counter()
    if args.method == "eulerian-magnification":
        frames = eulerian_magnification_package(args.input, args.output, args.alpha, args.band)
    else:
        frames = ours(args.method, args.input, args.output, args.alpha, args.band)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(method=args.method, frames=frames, seconds=seconds, fps=frames / seconds, peak_rss_mb=peak_mb,
                          import_rss_mb=baseline_mb, peak_anon_mb=sampler.peak_mb)))


if __name__ == "__main__":
    main()
