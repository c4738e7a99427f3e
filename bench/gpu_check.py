"""The GPU check: what only a CUDA machine can measure, in one report (bench/gpu_check.sh runs it).

    python bench/gpu_check.py [--out DIR]                 # on a GPU: the real sizes, about 5 min
    python bench/gpu_check.py --device cpu --quick        # the same code at toy sizes (no GPU)

Measures, on the device:
  bf16_vs_fp32  the released demo weights (flowmag-demo, oh2018-demo) and a paper-width FlowMag
                generator (random weights), each run with amp on and off on the same frames:
                max and mean absolute difference of the uint8 outputs, in /255
  flowmag_fps   FlowMag inference at 1920x1080, the paper's generator (width 64, random weights),
                batch 4, bf16 and fp32: frames per second, peak GPU memory
  train_sps     FlowMag training samples per second through RAFT-large (5 iterations, random
                weights), 512^2 crops, batch 8, bf16 flow as config/flowmag/raft.yaml
  classical_fps phase (8 orientations) and linear, static mode, at 1920x1080: frames per second
The CUDA tests run first (pytest -k cuda). Writes DIR/gpu_check.json and DIR/gpu_check.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def frames(count: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    """A smooth colour texture drifting 0.3 px per frame (uint8 RGB)."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.random((height // 4 + 4, width // 4 + 4, 3)), (2, 2, 0))
    base = (base - base.min()) / (base.max() - base.min())
    out = []
    for t in range(count):
        shifted = ndimage.shift(base, (0, 0.3 * t / 4, 0), order=1, mode="reflect")
        big = np.kron(shifted, np.ones((4, 4, 1)))[:height, :width]
        out.append((big * 255).round().astype(np.uint8))
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def random_flowmag(folder: Path, width: int) -> Path:
    """A FlowMag checkpoint with random weights at the given generator width."""
    from flowmag_speed import make_checkpoint  # bench/ is on the path of a bench script

    return make_checkpoint(folder, width)


def magnify_all(method: str, clip: list[np.ndarray], alpha: float, device: torch.device, **settings) -> tuple[list, float]:
    """(outputs, seconds per frame after the first batch) of one method on one clip."""
    from motionmag.methods import get_magnifier

    magnifier = get_magnifier(method, device=device, **settings)
    list(magnifier.magnify(clip[:2], alpha))  # warm-up: kernels, cuDNN autotuning
    sync(device)
    start = time.perf_counter()
    outputs = list(magnifier.magnify(clip, alpha))
    sync(device)
    return outputs, (time.perf_counter() - start) / len(clip)


def bf16_vs_fp32(device: torch.device, size: int, count: int, folder: Path) -> dict:
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    clip = frames(count, size, size)
    models = {
        "flowmag-demo": ("flowmag", dict(checkpoint=str(store.path("flowmag-demo")))),
        "flowmag-w64-random": ("flowmag", dict(checkpoint=str(random_flowmag(folder, 64)))),
        "oh2018-demo": ("oh2018", dict(checkpoint=str(store.path("oh2018-demo")), mode="static")),
    }
    result = {}
    for name, (method, settings) in models.items():
        fp32, _ = magnify_all(method, clip, 10.0, device, amp=False, **settings)
        bf16, _ = magnify_all(method, clip, 10.0, device, amp=True, **settings)
        diff = np.abs(np.stack(fp32).astype(np.int16) - np.stack(bf16).astype(np.int16))
        result[name] = dict(max_255=int(diff.max()), mean_255=round(float(diff.mean()), 4),
                            changed_fraction=round(float((diff > 0).mean()), 4), size=size, frames=count)
    return result


def flowmag_fps(device: torch.device, height: int, width: int, count: int, folder: Path) -> dict:
    checkpoint = str(random_flowmag(folder, 64))
    clip = frames(count, height, width)
    result = {}
    for amp in (True, False):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        _, seconds = magnify_all("flowmag", clip, 10.0, device, checkpoint=checkpoint, batch_size=4, amp=amp)
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
        result["bf16" if amp else "fp32"] = dict(fps=round(1 / seconds, 2), peak_gpu_gib=round(peak, 2))
    return dict(size=f"{width}x{height}", frames=count, width=64, batch_size=4, **result)


def train_sps(device: torch.device, crop: int, batch: int, steps: int) -> dict:
    """FlowMag's training step (generator forward, loss through RAFT, backward, Adam)."""
    from motionmag.flow import get_flow_model
    from motionmag.models.flowmag import FlowMagGenerator
    from motionmag.losses import FlowMagLoss

    torch.manual_seed(0)
    model = FlowMagGenerator(width=64).to(device)
    flow = get_flow_model("raft-things", preset="train", pretrained=False, amp=device.type == "cuda").to(device)
    loss_fn = FlowMagLoss(flow)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    pairs = torch.rand(batch, 2, 3, crop, crop, device=device)
    alpha = torch.full((batch,), 8.0, device=device)

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            output = model(pairs[:, 0], pairs[:, 1], alpha)
        loss = loss_fn(pairs[:, 0], pairs[:, 1], output.float(), alpha)["loss"]
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    step()  # warm-up
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    seconds = (time.perf_counter() - start) / steps
    return dict(crop=crop, batch_size=batch, flow="raft-things (random weights), 5 iterations",
                steps_per_s=round(1 / seconds, 3), samples_per_s=round(batch / seconds, 2))


def classical_fps(device: torch.device, height: int, width: int, count: int) -> dict:
    clip = frames(count, height, width)
    result = {}
    for method, settings in (("phase", dict(mode="static", orientations=8)), ("linear", dict(mode="static"))):
        _, seconds = magnify_all(method, clip, 10.0, device, **settings)
        result[method] = dict(fps=round(1 / seconds, 2), size=f"{width}x{height}", frames=count)
    return result


def cuda_tests(device: torch.device) -> dict:
    if device.type != "cuda":
        return dict(skipped="no CUDA device")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-k", "cuda or amp", "-p", "no:cacheprovider",
                          "tests/test_flow_zoo.py", "tests/test_flowmag.py", "tests/test_oh2018.py"],
                         cwd=ROOT, capture_output=True, text=True)
    return dict(returncode=run.returncode, summary=(run.stdout.strip().splitlines() or ["(no output)"])[-1])


def report_markdown(report: dict) -> str:
    lines = [f"# GPU check, {report['date']}", "", f"device: {report['device_name']}; torch {report['torch']}", ""]
    for section, values in report["results"].items():
        lines += [f"## {section}", "", "```", json.dumps(values, indent=1), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="toy sizes: checks the script, measures nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "gpu_check")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device (use --device cpu --quick to check the script)")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        big, sizes = (72, 96, 3), dict(bf16=(64, 3), crop=128, batch=2, steps=1)
    else:
        big, sizes = (1080, 1920, 24), dict(bf16=(512, 8), crop=512, batch=8, steps=10)
    report = dict(date=datetime.now(timezone.utc).isoformat(timespec="seconds"), host=platform.node(),
                  torch=torch.__version__, quick=args.quick,
                  device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
                  results={})
    steps = [
        ("cuda_tests", lambda: cuda_tests(device)),
        ("bf16_vs_fp32", lambda: bf16_vs_fp32(device, *sizes["bf16"], args.out)),
        ("flowmag_fps", lambda: flowmag_fps(device, *big, args.out)),
        ("train_sps", lambda: train_sps(device, sizes["crop"], sizes["batch"], sizes["steps"])),
        ("classical_fps", lambda: classical_fps(device, *big)),
    ]
    for name, measure in steps:
        start = time.perf_counter()
        try:
            report["results"][name] = measure()
        except Exception as err:  # one failed measurement must not lose the others
            report["results"][name] = dict(error=f"{type(err).__name__}: {err}")
        report["results"][name]["seconds"] = round(time.perf_counter() - start, 1)
        print(name, json.dumps(report["results"][name]), flush=True)
        (args.out / "gpu_check.json").write_text(json.dumps(report, indent=1))
    (args.out / "gpu_check.md").write_text(report_markdown(report))
    print(f"report: {args.out / 'gpu_check.md'}")


if __name__ == "__main__":
    main()
