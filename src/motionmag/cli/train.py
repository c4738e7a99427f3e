"""``motionmag train``: train a learned magnifier, or the flow network FlowMag learns through."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from motionmag.cli._common import add_command, resolve_device
from motionmag.errors import MotionmagError

NETWORKS = ("axial", "eulermormer", "stbvmm")  # trained by motionmag.train.network, on synthetic sets as oh2018

EXAMPLES = """\
examples:
  motionmag train flowmag config/flowmag/demo.yaml --pairs results/pairs/demo.h5 -o runs/demo
  motionmag train flowmag config/flowmag/raft.yaml --pairs pairs.h5 -o runs/raft --device cuda
  motionmag train oh2018 config/oh2018/demo.yaml --data results/synthetic/demo/manifest.json -o runs/oh-demo
  motionmag train flow config/flow/raft_small_rendered.yaml -o runs/flow   # RAFT on rendered pairs
  motionmag synth generate config/synthetic/axial_demo.yaml --samples 64 -o axial.h5   # per-axis samples
  motionmag train axial config/axial/demo.yaml --data axial.h5 -o runs/axial-demo
  motionmag train eulermormer config/eulermormer/demo.yaml --data demo.h5 -o runs/eulermormer-demo
  motionmag train stbvmm config/stbvmm/demo.yaml --data demo.h5 -o runs/stbvmm-demo
  torchrun --standalone --nproc_per_node 4 -m motionmag train flowmag config/flowmag/raft.yaml \\
      --pairs pairs.h5 -o runs/raft --device cuda      # one process per GPU (DDP)

A run writes OUT/model.pt (what `magnify --checkpoint` loads), OUT/log.csv, OUT/loss.png and
OUT/state/latest.pt; rerunning the same command resumes from the last checkpoint, and ends with
the same weights as an uninterrupted run. SIGTERM saves the state and exits with status 143.
"""


def add_parser(subparsers) -> None:
    train = add_command(subparsers, "train",
                        help="train a learned magnifier (flowmag, oh2018, axial, eulermormer, stbvmm) or the flow network FlowMag learns through",
                        description="Train a learned magnifier from a config file; resumes automatically.", examples=EXAMPLES)
    train.add_argument("model", choices=["flowmag", "oh2018", *NETWORKS, "flow"],
                       help="which model (flow: a RAFT trained on rendered pairs with known flow, for FlowMag's loss)")
    train.add_argument("config", type=Path, help="training config, e.g. config/flowmag/demo.yaml, config/oh2018/demo.yaml, config/axial/demo.yaml")
    train.add_argument("--pairs", type=Path, help="flowmag: the frame-pair file (HDF5) to train on")
    train.add_argument("--data", type=Path, help="oh2018, axial, eulermormer, stbvmm: the synthetic set to train on (manifest.json, or one .h5 sample file)")
    train.add_argument("--flow-weights", type=Path, help="flowmag: load the flow network it learns through from this file instead of the manifest's")
    train.add_argument("-o", "--output", type=Path, required=True, help="run folder (model.pt, log.csv, loss.png, state/)")
    train.add_argument("--steps", type=int, help="override train.steps")
    train.add_argument("--device", default="auto", help="cpu, cuda (default: cuda when available)")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    if args.steps is not None and args.steps < 1:
        raise MotionmagError(f"--steps must be at least 1, got {args.steps}")
    common = dict(device=resolve_device(args.device), steps=args.steps, progress=not args.quiet)
    if args.flow_weights is not None and args.model != "flowmag":
        raise MotionmagError("--flow-weights is for flowmag only")
    if args.model == "flow":  # renders its own pairs
        if args.pairs is not None or args.data is not None:
            raise MotionmagError("flow trains on pairs it renders itself: no --pairs or --data")
        from motionmag.train.flow import train_flow

        path = train_flow(args.config, args.output, **common)
        print(f"wrote {path}", file=sys.stderr)
        return
    data_flag, other_flag = ("--pairs", "--data") if args.model == "flowmag" else ("--data", "--pairs")
    data, other = (args.pairs, args.data) if args.model == "flowmag" else (args.data, args.pairs)
    if other is not None:
        raise MotionmagError(f"{other_flag} is not for {args.model}; it trains on {data_flag} FILE")
    if data is None:
        raise MotionmagError(f"{args.model} needs {data_flag} FILE (HDF5) to train on")
    if args.model == "flowmag":
        from motionmag.train.flowmag import train_flowmag

        path = train_flowmag(args.config, data, args.output, flow_weights=args.flow_weights, **common)
    elif args.model == "oh2018":
        from motionmag.train.oh2018 import train_oh2018

        path = train_oh2018(args.config, data, args.output, **common)
    else:
        from motionmag.train.network import train_network

        path = train_network(args.model, args.config, data, args.output, **common)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {path}", file=sys.stderr)
