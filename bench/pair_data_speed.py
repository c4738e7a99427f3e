"""FlowMag's pair set: flow-statistics throughput (batched against batch 1, as the original ran)
and the training loader's throughput (BENCHMARKS.md).

    python bench/pair_data_speed.py stats  [--pairs 16] [--size 256] [--batch 8] [--workers 2] [--repeats 3] [--device cpu]
    python bench/pair_data_speed.py loader [--pairs 96] [--workers 2] [--repeats 3]

stats: RAFT (random weights: same arithmetic as raft-things), 20 iterations, on pairs of
854x480 JPEG frames (DAVIS-sized) through ``pair_statistics``; pairs/s at batch 1 and at
``--batch``, with the same decoding workers, median over repeats. The original's setting (batch
1, frames decoded in the main process) is measured too.
loader: FlowMag's training loader (the pair file's frames at 910x512, as pre-resized: decode,
RandomResizedCrop 512, flips, rotation, colour jitter, batch 8) with ``--workers`` processes;
pairs/s for WebP (what the pair stage writes) and PNG shards of the same frames.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage import data as skdata

IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


def photo(k: int, w: int, h: int) -> np.ndarray:
    image = getattr(skdata, IMAGES[k % len(IMAGES)])()[..., :3]
    return cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=cv2.INTER_CUBIC)


def stats_bench(args) -> dict:
    from motionmag.data.flowstats import CandidateFrames, pair_statistics
    from motionmag.data.video_index import VideoFrames
    from motionmag.flow import get_flow_model

    folder = Path(tempfile.mkdtemp()) / "video"
    folder.mkdir()
    names = []
    for k in range(2 * args.pairs):  # a DAVIS-like video: 854x480 JPEG, small motion
        frame = np.roll(photo(k // 2, 854, 480), k % 2, axis=1)
        names.append(f"{k:05d}.jpg")
        cv2.imwrite(str(folder / names[-1]), frame)
    videos = [VideoFrames("v", str(folder), "v", names)]
    rows = [dict(video=0, i=2 * k, j=2 * k + 1) for k in range(args.pairs)]
    model = get_flow_model("raft-things", args.device, preset="eval", pretrained=False, amp=args.device == "cuda")
    dataset = CandidateFrames(videos, rows, args.size)
    pair_statistics(model, dataset, args.batch, 0, args.device, progress=False)  # warm-up

    def rate(batch, workers):
        times = []
        for _ in range(args.repeats):
            if args.device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            pair_statistics(model, dataset, batch, workers, args.device, progress=False)
            if args.device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return args.pairs / statistics.median(times)

    original = rate(1, 0)
    single = rate(1, args.workers)
    batched = rate(args.batch, args.workers)
    return dict(bench="stats", device=args.device, size=args.size, pairs=args.pairs, workers=args.workers,
                batch=args.batch, original_pairs_per_s=round(original, 3), batch1_pairs_per_s=round(single, 3),
                batched_pairs_per_s=round(batched, 3), ratio_vs_batch1=round(batched / single, 2),
                ratio_vs_original=round(batched / original, 2), threads=torch.get_num_threads())


def loader_bench(args) -> dict:
    from motionmag.data.augment import train_transform
    from motionmag.data.pairs import PairSet, write_pair_set
    from motionmag.train.flowmag import PairSource

    folder = Path(tempfile.mkdtemp())
    pairs = [(photo(k, 910, 512), np.roll(photo(k, 910, 512), 1, axis=1), f"p{k}") for k in range(args.pairs)]
    out = dict(bench="loader", pairs=args.pairs, workers=args.workers, batch=8)
    for encoding in ("webp", "png"):
        path = folder / f"{encoding}.h5"
        write_pair_set(path, iter(pairs), encoding)
        source = PairSource(PairSet(path), list(range(args.pairs)), train_transform(512))

        class Samples(torch.utils.data.Dataset):
            def __len__(self):
                return len(source)

            def __getitem__(self, i):
                return source.sample(i, i)

        times = []
        for _ in range(args.repeats):
            loader = torch.utils.data.DataLoader(Samples(), batch_size=8, num_workers=args.workers)
            start = time.perf_counter()
            for _batch in loader:
                pass
            times.append(time.perf_counter() - start)
        out[f"{encoding}_pairs_per_s"] = round(args.pairs / statistics.median(times), 1)
        out[f"{encoding}_kb_per_pair"] = round(path.stat().st_size / args.pairs / 1e3, 1)
    out["ratio_webp_vs_png"] = round(out["webp_pairs_per_s"] / out["png_pairs_per_s"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=["stats", "loader"])
    parser.add_argument("--pairs", type=int)
    parser.add_argument("--size", type=int, default=256, help="flow resolution (the paper: 512)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.bench == "stats":
        args.pairs = args.pairs or 16
        print(json.dumps(stats_bench(args)))
    else:
        args.pairs = args.pairs or 96
        print(json.dumps(loader_bench(args)))


if __name__ == "__main__":
    main()
