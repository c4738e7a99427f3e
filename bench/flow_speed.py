"""Forward and forward+backward time of every flow model, per sample, at the best batch size.

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
        python bench/flow_speed.py [--sizes 256 512] [--batches 1 2 4] [--runs 3] [--device cpu]

forward: ``torch.no_grad()``, FlowMag's evaluation preset (RAFT 20 iterations).
forward+backward: gradients to both images (loss = mean |flow|), FlowMag's training preset (RAFT
5 iterations), what one FlowMag loss evaluation costs. Random weights (timing does not depend on
them). Each cell: median of ``--runs`` timed runs after one warm-up; per sample = time / batch.
Models sharing an architecture (raft-sintel = raft-things, gmflow-sintel = gmflow-things) are
timed once. Prints a Markdown table and writes JSON next to it with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from motionmag.flow import flow_spec, get_flow_model

MODELS = ["raft-things", "raft-small", "gmflow-things", "pwcnet", "arflow-kitti", "lk", "dis", "farneback"]


def timed(fn, device: str, runs: int) -> float:
    fn()  # warm-up (allocations, cudnn autotuning)
    times = []
    for _ in range(runs):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, size: int, batch: int, device: str, runs: int, amp: bool) -> dict:
    torch.manual_seed(0)
    img0 = torch.rand(batch, 3, size, size, device=device)
    img1 = torch.rand(batch, 3, size, size, device=device)
    row = dict(model=name, size=size, batch=batch)
    model = get_flow_model(name, device=device, pretrained=False, preset="eval", amp=amp)

    def forward():
        with torch.no_grad():
            model(img0, img1)

    row["forward_s"] = timed(forward, device, runs) / batch
    if flow_spec(name).differentiable:
        model = get_flow_model(name, device=device, pretrained=False, preset="train", amp=amp)
        a, b = img0.clone().requires_grad_(True), img1.clone().requires_grad_(True)

        def forward_backward():
            a.grad = b.grad = None
            model(a, b).abs().mean().backward()

        row["forward_backward_s"] = timed(forward_backward, device, runs) / batch
    return row


def best(rows: list[dict], key: str) -> dict | None:
    rows = [r for r in rows if key in r]
    return min(rows, key=lambda r: r[key]) if rows else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA only)")
    parser.add_argument("--json", help="also write every measurement here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    for name in args.models:
        for size in args.sizes:
            for batch in args.batches:
                row = measure(name, size, batch, args.device, args.runs, args.amp)
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(rows, stream, indent=1)

    print("\n| model | size | forward s/sample (batch) | fwd+bwd s/sample (batch) |")
    print("|---|---|---|---|")
    for name in args.models:
        for size in args.sizes:
            cell = [r for r in rows if r["model"] == name and r["size"] == size]
            fwd, fwd_bwd = best(cell, "forward_s"), best(cell, "forward_backward_s")
            bwd_text = f"{fwd_bwd['forward_backward_s']:.3f} ({fwd_bwd['batch']})" if fwd_bwd else "–"
            print(f"| {name} | {size}² | {fwd['forward_s']:.3f} ({fwd['batch']}) | {bwd_text} |")


if __name__ == "__main__":
    main()
