"""What the released demo weights achieve, against issue 18's targets, and the flow network's accuracy.

    python bench/release_quality.py models [--checkpoint flowmag=PATH --checkpoint oh2018=PATH]
    python bench/release_quality.py flow   [--pairs 64] [--weights PATH]

models: each released model magnifies the demo's rendered clips (cat_on_gravel, subpixel from
  config/config.yaml; no release trained on their photos) at alpha 4 and 10. Scored with the
  project's own metrics (motionmag.evaluate.evaluate_clip, OpenCV DIS as the estimator, the
  object's region): measured amplification / alpha (target >= 0.7 FlowMag, >= 0.8 Oh), SSIM
  against the rendered ground truth at alpha 4 (target >= 0.95), and at alpha 1 the mean absolute
  colour error against the input (/255; FlowMag target <= 2). Phase and linear alongside.
flow: end-point error on held-out rendered pairs (seeds no training draws) at 128^2, by motion
  range, for lk-normalized (what the FlowMag demo weights learn through), plain lk, OpenCV DIS and,
  with --weights, a RAFT-small trained by `motionmag train flow`; and the flow each reads in a
  pure brightness-and-contrast change (x1.15 plus a 0-0.15 ramp; no motion at all).
Prints JSON lines; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
CLIP_FRAMES = {"cat_on_gravel": 40, "subpixel": 32}


def _clip(name: str):
    from motionmag.synth.clips import DemoClip, DemoRenderer

    settings = yaml.safe_load(open(ROOT / "config" / "config.yaml"))["clips"][name]["render"]
    # the clips as BENCHMARKS.md's figures were measured: the demo now renders 24 frames of each
    settings["frames"] = CLIP_FRAMES[name]
    return DemoRenderer(DemoClip.from_dict(settings))


def _quantised(frames):
    return [np.round(np.clip(f, 0, 1) * 255).astype(np.uint8) for f in frames]


def models(checkpoints: dict[str, str], only: list[str] | None = None, clips=("cat_on_gravel", "subpixel")) -> None:
    from motionmag.evaluate import evaluate_clip
    from motionmag.flow import get_flow_model
    from motionmag.flow.weights import WeightsStore
    from motionmag.methods import get_magnifier

    flow = get_flow_model("dis")
    methods = {
        "flowmag": dict(checkpoint=checkpoints.get("flowmag") or WeightsStore().require("flowmag-demo")),
        "oh2018": dict(checkpoint=checkpoints.get("oh2018") or WeightsStore().require("oh2018-demo"), mode="static"),
        "phase": dict(mode="static"),
        "linear": dict(mode="static"),
    }
    methods = {m: v for m, v in methods.items() if not only or m in only}
    for clip in clips:
        renderer = _clip(clip)
        inputs = _quantised(renderer.frames())
        obj_region, _ = renderer.regions(margin=8)
        true_obj, _ = renderer.displacements()
        for method, settings in methods.items():
            magnifier = get_magnifier(method, **settings)
            row = dict(clip=clip, method=method)
            start = time.perf_counter()
            for alpha in (4.0, 10.0):
                outputs = list(magnifier.magnify(iter(inputs), alpha))
                truths = _quantised(renderer.frames(alpha))
                metrics = evaluate_clip(inputs, outputs, alpha, {"dis": flow}, truths=truths,
                                        regions={"object": (obj_region, true_obj)})["dis"]
                row[f"amp_ratio_x{alpha:g}"] = round(metrics["amplification_object"] / alpha, 3)
                row[f"ssim_x{alpha:g}"] = round(metrics["ssim"], 4)
            identity = list(magnifier.magnify(iter(inputs), 1.0))
            row["color_err_x1"] = round(float(np.mean([np.abs(o.astype(float) - i).mean() for o, i in zip(identity, inputs)])), 2)
            row["seconds"] = round(time.perf_counter() - start, 1)
            print(json.dumps(row), flush=True)


def flow_accuracy(pairs: int, weights: str | None) -> None:
    from motionmag.flow import get_flow_model
    from motionmag.synth.flow_pairs import FlowPairRecipe, FlowPairRenderer, PhotoPool
    from motionmag.train.flow import VAL_SEED, pair_tensors
    from motionmag.seeding import derive_seed

    renderer = FlowPairRenderer(FlowPairRecipe(size=128), PhotoPool([ROOT / "resources" / "clips" / "baby.mp4"]))
    estimators = {f"{name}:{preset}" if preset else name: get_flow_model(name, preset=preset)
                  for name, preset in (("lk-normalized", "eval"), ("lk-normalized", "train"), ("lk", "eval"),
                                       ("lk", "train"), ("dis", None))}
    if weights:
        estimators["raft-small (trained here)"] = get_flow_model("raft-small", preset="eval", weights=weights)
    bins = [(0, 0.5), (0.5, 2), (2, 16)]
    errors = {name: {b: [] for b in bins} for name in estimators}
    for i in range(pairs):
        frames, truth = pair_tensors(*renderer.render(np.random.default_rng(derive_seed(VAL_SEED + 1, i))))
        speed = truth.norm(dim=0)
        with torch.no_grad():
            for name, model in estimators.items():
                epe = (model(frames[:1], frames[1:])[0] - truth).norm(dim=0)
                for low, high in bins:
                    mask = (speed >= low) & (speed < high)
                    if mask.any():
                        errors[name][(low, high)].append(float(epe[mask].mean()))
    frames, _ = pair_tensors(*renderer.render(np.random.default_rng(derive_seed(VAL_SEED + 2, 0))))
    relit = (frames[:1] * 1.15 + torch.linspace(0, 0.15, frames.shape[-1]).view(1, 1, 1, -1)).clamp(0, 1)
    for name, by_bin in errors.items():
        with torch.no_grad():
            fooled = float(estimators[name](frames[:1], relit).norm(dim=1).mean())
        row = {"estimator": name, "pairs": pairs, "brightness_change_px": round(fooled, 3)}
        row.update({f"epe_{low:g}-{high:g}px": round(float(np.mean(v)), 3) for (low, high), v in by_bin.items() if v})
        row["epe_all"] = round(float(np.mean([x for v in by_bin.values() for x in v])), 3)
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["models", "flow"])
    parser.add_argument("--checkpoint", action="append", default=[], metavar="METHOD=PATH")
    parser.add_argument("--methods", nargs="+", help="models: only these methods (default: all four)")
    parser.add_argument("--clips", nargs="+", default=["cat_on_gravel", "subpixel"], help="models: demo clips to score")
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--weights", help="flow: also score a RAFT-small checkpoint from `motionmag train flow`")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.what == "models":
        models(dict(item.split("=", 1) for item in args.checkpoint), args.methods, args.clips)
    else:
        flow_accuracy(args.pairs, args.weights)


if __name__ == "__main__":
    main()
