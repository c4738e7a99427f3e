"""The ``motionmag`` command line.

Bad input (a missing or unreadable file, an empty video, a mask of the wrong size or with values
out of range, an alpha that is not finite, not > 0 or above the method's bound, an fps that is not
finite and > 0, an unwritable output) ends with one line on stderr and exit status 2 before any
output is created; no output file is left half-written, and an existing output is only replaced
once the new one is complete.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import yaml

from motionmag import __version__
from motionmag.errors import MotionmagError

MAGNIFY_EXAMPLES = """\
examples:
  motionmag magnify clip.mp4 --alpha 20                       # phase-based, against frame 0
  motionmag magnify clip.mp4 --method linear --alpha 10 -o out.mp4
  motionmag magnify frames/ --fps 30 --alpha 10 --band 0.5 3  # temporal band-pass, 0.5-3 Hz
  motionmag magnify clip.mp4 --alpha 20 --mask cat.npy --feather 25
  motionmag magnify clip.mp4 --alpha 10 --param orientations=4 --param sigma=0
  motionmag magnify clip.mp4 --method flowmag --checkpoint model.pt --alpha 20
  motionmag magnify clip.mp4 --method flowmag --alpha 40 --mask cat.npy --feather 25 --tta-steps 200
  motionmag magnify clip.mp4 --method oh2018 --checkpoint model.pt --alpha 10 --mode dynamic
  motionmag magnify clip.mp4 --method oh2018 --alpha 20 --filter diff-iir --band 0.04 0.4
  motionmag magnify frames/ --method oh2018 --alpha 30 --filter fir --band 0.5 3 --fps 30 --param taps=61

alpha is output motion / input motion for every method (1 leaves the video unchanged).
Modes: static magnifies each frame's motion relative to the first frame (any motion, no
frame rate needed); temporal magnifies only motion whose frequency lies in --band; dynamic
(oh2018 only) magnifies each frame's motion from the previous one (velocity, large motions).
Temporal filters: iir (Wu et al.'s, band in Hz), diff-iir (the same filter given by its two
coefficients r_low r_high, as Oh et al.'s differenceOfIIR), butter (Butterworth, Hz), fir
(zero-phase windowed sinc, Hz; also called ideal).
flowmag is static only; above its trained range (16) it takes repeated passes of alpha**(1/n).
--checkpoint: for flowmag a model.pt from `motionmag train flowmag`, a training state, or an
original release file (raft_chkpt_00140.pth); for oh2018 a model.pt from `motionmag train
oh2018`. Default: the demo's, when it has been trained.
"""

TRAIN_EXAMPLES = """\
examples:
  motionmag train flowmag config/flowmag/demo.yaml --pairs results/pairs/demo.h5 -o runs/demo
  motionmag train flowmag config/flowmag/raft.yaml --pairs pairs.h5 -o runs/raft --device cuda
  motionmag train oh2018 config/oh2018/demo.yaml --data results/synthetic/demo/manifest.json -o runs/oh-demo
  motionmag train flow config/flow/raft_small_rendered.yaml -o runs/flow   # RAFT on rendered pairs
  torchrun --standalone --nproc_per_node 4 -m motionmag train flowmag config/flowmag/raft.yaml \\
      --pairs pairs.h5 -o runs/raft --device cuda      # one process per GPU (DDP)

A run writes OUT/model.pt (what `magnify --checkpoint` loads), OUT/log.csv, OUT/loss.png and
OUT/state/latest.pt; rerunning the same command resumes from the last checkpoint, and ends with
the same weights as an uninterrupted run. SIGTERM saves the state and exits with status 143.
"""

# without --checkpoint, the released demo weights that ship with the code (config/weights.yaml)
DEMO_WEIGHTS = {"flowmag": "flowmag-demo", "oh2018": "oh2018-demo"}
LEARNED = tuple(DEMO_WEIGHTS)


FLOW_EXAMPLES = """\
examples:
  motionmag flow list                                   # models, weights present, differentiable
  motionmag flow fetch raft-things gmflow-things        # into resources/weights/, sha256-checked
  motionmag flow run a.png b.png -o flow.png            # weight-free DIS
  motionmag flow run a.png b.png --model raft-things -o flow.png --save-flow flow.npy
  motionmag flow run a.png b.png --model raft-things --weights raft-things.pth   # princeton-vl's file

gmflow-* and pwcnet need the optional zoo: pip install 'motionmag[zoo]'.
"""

SYNTH_EXAMPLES = """\
examples:
  motionmag synth preview -o sheet.png                          # 6 demo samples at 384x384
  motionmag synth preview --recipe config/synthetic/demo.yaml --count 12 -o sheet.png
  motionmag synth preview results/synthetic/demo/manifest.json --start 100 -o sheet.png
  motionmag synth index --source coco-voc --coco coco/train2017 --voc VOCdevkit/VOC2012 -o sources.json
  motionmag synth generate config/synthetic/oh2018.yaml --index sources.json --samples 100000 \\
      --shard-size 1000 --shard 7 -o shard-7.h5                  # one of 100 shards, any machine
  motionmag synth generate config/synthetic/oh2018.yaml --sweep subpixel --samples 1000 -o subpixel.h5
  motionmag synth pairs --count 2000 --clip resources/clips/baby.mp4 -o pairs.h5   # FlowMag training pairs

Samples are Oh et al.'s four frames: A, B (= C with each layer's colours perturbed), C (every
layer moved by its own d) and amplified (moved by alpha d, perturbed like B). Sample i depends
only on (recipe, source index, seed, i), so shards can be made anywhere, in any order. Sweeps
are the paper's evaluation sets: subpixel (motion 0.04-1 px, magnified motion 10 px) and noise
(motion 0.05 px, alpha 200, photon noise factor 0.01-100); --samples is then scenes per level.
The workflow (rules synth_index, synth_shard, synth_manifest) does all this from config.yaml.
"""

SWEEP_DEFAULTS = {
    "subpixel": dict(kind="subpixel", levels=[0.04, 1.0, 15], magnified=10.0),
    "noise": dict(kind="noise", levels=[0.01, 100.0, 21], magnified=10.0, motion=0.05),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2) instead of the usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _key_value(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip().replace("-", "_"), yaml.safe_load(value)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="motionmag", description="Video motion magnification: FlowMag, Oh et al. 2018, linear and phase-based Eulerian methods.")
    parser.add_argument("--version", action="version", version=f"motionmag {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    magnify = commands.add_parser(
        "magnify",
        help="magnify the motion in a video or a folder of frames",
        description="Magnify the motion in INPUT and write a browser-playable H.264 MP4 (or a folder of PNGs).",
        epilog=MAGNIFY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    magnify.add_argument("input", type=Path, help="a video file or a folder of frame images")
    magnify.add_argument("-o", "--output", type=Path, help="output .mp4 (or a folder name for PNG frames); default INPUT_METHOD_xALPHA.mp4 here")
    magnify.add_argument("--method", default="phase", choices=["flowmag", "linear", "oh2018", "phase"], help="magnification method (default: phase)")
    magnify.add_argument("--alpha", type=float, default=10.0, help="magnification factor, output / input motion: > 0 (below 1 attenuates), at most 1000 (default: 10)")
    magnify.add_argument("--mode", choices=["static", "dynamic", "temporal"], help="static: against frame 0 (default); temporal: band-pass in time (default when --band is given); dynamic: against the previous frame (oh2018)")
    magnify.add_argument("--band", type=float, nargs=2, metavar=("LOW", "HIGH"), help="temporal pass band in Hz (for diff-iir: its coefficients r_low r_high)")
    magnify.add_argument("--filter", default="iir", choices=["iir", "diff-iir", "butter", "fir", "ideal"], help="temporal filter (default: iir, Wu et al.'s)")
    magnify.add_argument("--mask", type=Path, help="magnify only where this mask is on, same size as the video: .npy (bool, 0/1, 8-bit 0-255 or float in [0, 1]) or an image (grey above 127 on)")
    magnify.add_argument("--feather", type=float, default=0.0, metavar="PX", help="soften the mask outwards over PX pixels (>= 0)")
    magnify.add_argument("--fps", type=float, help="frame rate of a frame folder, > 0 (default 30); video files keep their own")
    magnify.add_argument("--checkpoint", type=Path, help="flowmag, oh2018: the trained model (default: the released demo weights, flowmag-demo / oh2018-demo in config/weights.yaml)")
    magnify.add_argument("--batch-size", type=int, metavar="N", help="flowmag, oh2018: frames per forward pass (default: 4; oh2018 on the CPU: 1)")
    magnify.add_argument("--tta-steps", type=int, metavar="N", help="flowmag: test-time adaptation steps on this video first (default: 0, off)")
    magnify.add_argument("--tta-batch", type=int, metavar="N", help="flowmag: pairs per adaptation step (default: 8)")
    magnify.add_argument("--param", type=_key_value, action="append", default=[], metavar="KEY=VALUE", help="a method setting, e.g. lambda_c=16 (linear), orientations=4 or sigma=0 (phase), taps=61 or reference=first (oh2018)")
    magnify.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    magnify.add_argument("--backend", default="av", choices=["av", "cv2", "decord"], help="video decoder (default: av)")
    magnify.add_argument("--crf", type=int, default=18, help="H.264 quality, lower is better (default: 18)")
    magnify.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    magnify.set_defaults(run=run_magnify)

    train = commands.add_parser(
        "train",
        help="train a learned magnifier (flowmag, oh2018) or the flow network FlowMag learns through",
        description="Train a learned magnifier from a config file; resumes automatically.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("model", choices=["flowmag", "oh2018", "flow"], help="which model (flow: a RAFT trained on rendered pairs with known flow, for FlowMag's loss)")
    train.add_argument("config", type=Path, help="training config, e.g. config/flowmag/demo.yaml or config/oh2018/demo.yaml")
    train.add_argument("--pairs", type=Path, help="flowmag: the frame-pair file (HDF5) to train on")
    train.add_argument("--data", type=Path, help="oh2018: the synthetic set to train on (manifest.json, or one .h5 sample file)")
    train.add_argument("--flow-weights", type=Path, help="flowmag: load the flow network it learns through from this file instead of the manifest's")
    train.add_argument("-o", "--output", type=Path, required=True, help="run folder (model.pt, log.csv, loss.png, state/)")
    train.add_argument("--steps", type=int, help="override train.steps")
    train.add_argument("--device", default="auto", help="cpu, cuda (default: cuda when available)")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)

    render = commands.add_parser(
        "render",
        help="render a synthetic clip with known sub-pixel motion (for tests and demos)",
        description="Render a synthetic clip (textured object over a textured background, sinusoidal sub-pixel motions) to a video or PNG folder, with its ground truth as JSON.",
    )
    render.add_argument("output", type=Path, help="output .mp4 or folder")
    render.add_argument("--alpha", type=float, default=1.0, help="render the ground truth of this magnification, > 0 and at most 1000 (default: 1, the input)")
    render.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE", help="a clip setting, e.g. frames=60 or object_motion={amplitude: 0.25}")
    render.set_defaults(run=run_render)

    flow = commands.add_parser(
        "flow",
        help="optical-flow models: list them, fetch their weights, run one on two images",
        description="The optical-flow zoo that FlowMag trains through and evaluates with.",
        epilog=FLOW_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flow_commands = flow.add_subparsers(dest="flow_command", required=True, parser_class=_Parser)
    flow_list = flow_commands.add_parser("list", help="every model: kind, differentiable, weights present")
    flow_list.add_argument("--json", action="store_true", help="machine-readable output")
    flow_list.set_defaults(run=run_flow_list)
    flow_fetch = flow_commands.add_parser("fetch", help="download and verify pretrained weights into resources/weights/")
    flow_fetch.add_argument("models", nargs="*", metavar="MODEL", help="model names (default: every model with weights)")
    flow_fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    flow_fetch.set_defaults(run=run_flow_fetch)
    flow_run = flow_commands.add_parser(
        "run", help="estimate the flow from image A to image B and save it colour-coded",
        description="Estimate the flow A -> B and write it as a colour-coded image (hue: direction, saturation: magnitude).",
    )
    flow_run.add_argument("image_a", type=Path, help="first image")
    flow_run.add_argument("image_b", type=Path, help="second image, same size")
    flow_run.add_argument("-o", "--output", type=Path, default=Path("flow.png"), help="colour-coded flow image (default: flow.png)")
    flow_run.add_argument("--model", default="dis", help="flow model (default: dis, weight-free); see `motionmag flow list`")
    flow_run.add_argument("--weights", type=Path, help="a checkpoint to load instead of the manifest's (any format the model reads)")
    flow_run.add_argument("--preset", choices=["train", "eval"], default="eval", help="FlowMag's settings (RAFT: 5 or 20 iterations; default: eval)")
    flow_run.add_argument("--save-flow", type=Path, metavar="FILE.npy", help="also save the raw (H, W, 2) float32 flow, x then y, in pixels")
    flow_run.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    flow_run.set_defaults(run=run_flow_run)

    synth = commands.add_parser(
        "synth",
        help="Oh et al.-style synthetic sets: preview samples, index sources, generate shards",
        description="The synthetic training and evaluation sets of Oh et al. 2018, rebuilt from the paper's recipe.",
        epilog=SYNTH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    synth_commands = synth.add_subparsers(dest="synth_command", required=True, parser_class=_Parser)

    def source_options(p, index=True):
        p.add_argument("--source", choices=["demo", "demo-heldout", "coco-voc"], help="where images come from (default: demo, bundled with scikit-image; demo-heldout: without the demo clips' photos)")
        p.add_argument("--coco", type=Path, help="coco-voc: the COCO train2017 image folder")
        p.add_argument("--voc", type=Path, help="coco-voc: the VOC2012 folder (JPEGImages, SegmentationObject, ImageSets)")
        if index:
            p.add_argument("--index", type=Path, help="a source index from `synth index` (instead of --source)")

    preview = synth_commands.add_parser(
        "preview", help="write a contact sheet PNG of samples (A | B | C | amplified)",
        description="Write a contact sheet of samples, from a set (a manifest or a shard) or made on the fly from a recipe.",
    )
    preview.add_argument("set", nargs="?", type=Path, help="manifest.json or a shard .h5 (default: make samples from --recipe)")
    preview.add_argument("-o", "--output", type=Path, default=Path("synth_preview.png"), help="PNG to write (default: synth_preview.png)")
    preview.add_argument("--recipe", type=Path, help="recipe when no set is given (default: the paper's, as config/synthetic/oh2018.yaml)")
    source_options(preview)
    preview.add_argument("--sweep", choices=list(SWEEP_DEFAULTS), help="preview a sweep's scenes instead of training samples")
    preview.add_argument("--count", type=int, default=6, help="samples on the sheet (default: 6)")
    preview.add_argument("--start", type=int, default=0, help="first sample index (default: 0)")
    preview.add_argument("--seed", type=_non_negative, help="seed when making samples (default: 0)")
    preview.set_defaults(run=run_synth_preview)

    index = synth_commands.add_parser("index", help="list a source's backgrounds and objects into an index (JSON)",
                                      description="Scan a source once (for coco-voc: every VOC instance mask) and write the index that generation reads.")
    source_options(index, index=False)
    index.add_argument("-o", "--output", type=Path, required=True, help="index JSON to write")
    index.set_defaults(run=run_synth_index)

    generate = synth_commands.add_parser("generate", help="generate one shard of a set into HDF5",
                                         description="Generate shard K of a set (samples K*S ... K*S+S-1) into an HDF5 sample file.",
                                         epilog=SYNTH_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    generate.add_argument("recipe", type=Path, help="recipe YAML, e.g. config/synthetic/oh2018.yaml")
    generate.add_argument("-o", "--output", type=Path, required=True, help="shard .h5 to write")
    source_options(generate)
    generate.add_argument("--samples", type=int, default=100, help="samples in the whole set (sweeps: scenes per level; default: 100)")
    generate.add_argument("--shard-size", type=int, help="samples per shard (default: all in one)")
    generate.add_argument("--shard", type=int, default=0, help="which shard (default: 0)")
    generate.add_argument("--seed", type=_non_negative, default=0, help="set seed (default: 0)")
    generate.add_argument("--sweep", choices=list(SWEEP_DEFAULTS), help="an evaluation sweep with the paper's levels instead of training samples")
    generate.add_argument("--threads", type=int, default=1, help="OpenCV threads (default: 1; run shards in parallel instead)")
    generate.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(run=run_synth_generate)

    pairs = synth_commands.add_parser(
        "pairs", help="write a frame-pair file (HDF5) of rendered pairs plus real-clip pairs, to train FlowMag on",
        description="Rendered pairs (layers of held-out photos moved by known sub-pixel amounts, motionmag.synth.flow_pairs) "
                    "followed by FlowMag's candidate pairs (2k, 2k+s), s = 1 and 5, of each --clip.",
        epilog=SYNTH_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    pairs.add_argument("-o", "--output", type=Path, required=True, help="pair file .h5 to write")
    pairs.add_argument("--count", type=int, default=1000, help="rendered pairs (default: 1000)")
    pairs.add_argument("--size", type=int, default=160, help="side of the square rendered frames (default: 160)")
    pairs.add_argument("--motion", type=float, nargs=2, default=[0.05, 1.5], metavar=("MIN", "MAX"), help="translation range in px, log-uniform (default: 0.05 1.5)")
    pairs.add_argument("--clip", type=Path, action="append", default=[], help="a real clip (video or frame folder) whose pairs follow the rendered ones; repeatable")
    pairs.add_argument("--seed", type=_non_negative, default=0, help="seed (default: 0)")
    pairs.set_defaults(run=run_synth_pairs)
    return parser


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise MotionmagError(f"unknown device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise MotionmagError("--device cuda was asked for but no CUDA device is available")
    return name


def _method_settings(args: argparse.Namespace, fps: float) -> dict:
    """The magnifier's keyword arguments from the command line."""
    settings = dict(args.param)
    settings["device"] = _device(args.device)
    learned = dict(checkpoint=args.checkpoint, batch_size=args.batch_size, tta_steps=args.tta_steps, tta_batch=args.tta_batch)
    given = {f"--{k.replace('_', '-')}": v for k, v in learned.items() if v is not None}
    mode = args.mode or ("temporal" if args.band else "static")
    if args.method not in LEARNED and given:
        raise MotionmagError(f"{', '.join(given)}: only for --method {' or '.join(LEARNED)}")
    if args.method in LEARNED:
        checkpoint = args.checkpoint
        if checkpoint is None:
            from motionmag.flow.weights import WeightsStore

            checkpoint = WeightsStore().require(DEMO_WEIGHTS[args.method])  # sha256-verified
            print(f"motionmag: {args.method} uses the released demo weights {DEMO_WEIGHTS[args.method]} ({checkpoint}): "
                  "small models trained on a CPU, not the paper's; give --checkpoint for others", file=sys.stderr)
        settings["checkpoint"] = checkpoint
        if args.batch_size is not None:
            if args.batch_size < 1:
                raise MotionmagError(f"--batch-size must be at least 1, got {args.batch_size}")
            settings["batch_size"] = args.batch_size
    if args.method == "flowmag":
        if args.band or args.mode in ("temporal", "dynamic"):
            raise MotionmagError("flowmag magnifies against frame 0 only: --band and --mode temporal/dynamic do not apply")
        tta = dict(tta_steps=0 if args.tta_steps is None else args.tta_steps, tta_batch=8 if args.tta_batch is None else args.tta_batch)
        if tta["tta_batch"] < 1:
            raise MotionmagError(f"--tta-batch must be at least 1, got {tta['tta_batch']}")
        if tta["tta_steps"] < 0:
            raise MotionmagError(f"--tta-steps must be 0 or more, got {args.tta_steps}")
        settings.update(tta, progress=not args.quiet)
        return settings
    tta_given = [k for k in ("--tta-steps", "--tta-batch") if k in given]
    if tta_given:
        raise MotionmagError(f"{', '.join(tta_given)}: only for --method flowmag")
    if args.band and mode != "temporal":
        raise MotionmagError(f"--band is for --mode temporal, not {mode}")
    if mode == "dynamic" and args.method != "oh2018":
        raise MotionmagError(f"--mode dynamic is for --method oh2018; {args.method} has static and temporal")
    settings.update(mode=mode, band=args.band, fps=fps, filter=args.filter)
    return settings


def run_magnify(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from motionmag.io import feather, load_mask, open_video, open_writer
    from motionmag.io.video import check_fps
    from motionmag.methods import get_magnifier
    from motionmag.methods.base import check_alpha

    # the numbers first: a bad one fails before the video is even opened
    alpha = check_alpha(args.alpha)
    if args.fps is not None:
        check_fps(args.fps, "--fps")  # also for a video file, which keeps its own rate: a bad value is a mistake
    if not math.isfinite(args.feather) or args.feather < 0:
        raise MotionmagError(f"--feather must be a finite number of pixels >= 0, got {args.feather:g}")
    reader = open_video(args.input, backend=args.backend, fps=args.fps)
    frames = iter(reader)
    first = next(frames, None)
    if first is None:
        raise MotionmagError(f"{args.input}: the video has no frames")
    mask = None
    if args.mask is not None:
        mask = feather(load_mask(args.mask, size=first.shape[:2]), args.feather)
    magnifier = get_magnifier(args.method, **_method_settings(args, float(reader.info.fps)))
    check_alpha(alpha, magnifier.max_alpha, args.method)  # a method may honour less than the common bound
    if args.method == "flowmag":
        from motionmag.methods.flowmag import alpha_passes

        alpha_passes(alpha, magnifier.training["alpha_high"])  # a bad alpha fails before any work
        if magnifier.tta["steps"]:
            magnifier.adapt(open_video(args.input, backend=args.backend, fps=args.fps))
    output = args.output or Path(f"{args.input.stem}_{args.method}_x{alpha:g}.mp4")

    def all_frames():
        yield first
        yield from frames

    with open_writer(output, reader.info.fps, crf=args.crf) as writer:
        progress = tqdm(total=len(reader), unit="frame", desc=f"{args.method} x{alpha:g}", disable=args.quiet)
        for frame in magnifier.magnify(all_frames(), alpha, mask=mask):
            writer.write(frame)
            progress.update()
        progress.close()
    print(f"wrote {output} ({writer.frames_written} frames, {float(reader.info.fps):g} fps)", file=sys.stderr)


def run_train(args: argparse.Namespace) -> None:
    if args.steps is not None and args.steps < 1:
        raise MotionmagError(f"--steps must be at least 1, got {args.steps}")
    common = dict(device=_device(args.device), steps=args.steps, progress=not args.quiet)
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
    else:
        from motionmag.train.oh2018 import train_oh2018

        path = train_oh2018(args.config, data, args.output, **common)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {path}", file=sys.stderr)


def run_render(args: argparse.Namespace) -> None:
    from motionmag.data.demo import DemoClip, DemoRenderer
    from motionmag.io import open_writer
    from motionmag.io.video import check_fps
    from motionmag.methods.base import check_alpha

    alpha = check_alpha(args.alpha)
    clip = DemoClip.from_dict(dict(args.set))
    check_fps(clip.fps, "the clip's fps")  # the motions are sinusoids in time: t / fps
    renderer = DemoRenderer(clip)
    with open_writer(args.output, clip.fps) as writer:
        for frame in renderer.frames(alpha):
            writer.write(frame)
    obj, bg = renderer.displacements(alpha)
    truth = {"clip": clip.to_dict(), "alpha": alpha, "object_displacement": obj.tolist(), "background_displacement": bg.tolist()}
    Path(f"{args.output}.json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {args.output} and {args.output}.json", file=sys.stderr)


def run_flow_list(args: argparse.Namespace) -> None:
    from motionmag.flow import flow_spec, list_flow_models
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    rows = []
    for name in list_flow_models():
        spec = flow_spec(name)
        weights = store.entry(name).file if spec.needs_weights and name in store.entries else None
        rows.append(
            dict(
                name=name,
                differentiable=spec.differentiable,
                weights=weights,
                present=bool(weights) and store.present(name),
                needs=spec.extra,
                summary=spec.summary,
            )
        )
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'model':<15}{'grad':<6}{'weights':<11}summary")
    for row in rows:
        state = "-" if row["weights"] is None else "present" if row["present"] else "missing"
        extra = f" [needs motionmag[{row['needs']}]]" if row["needs"] else ""
        print(f"{row['name']:<15}{'yes' if row['differentiable'] else 'no':<6}{state:<11}{row['summary']}{extra}")
    print(f"weights folder: {store.root}  (fetch with: motionmag flow fetch MODEL)")


def run_flow_fetch(args: argparse.Namespace) -> None:
    from motionmag.flow import flow_spec
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    # every flow model with weights (the manifest also lists FlowMag's released generators)
    names = args.models or [name for name, entry in store.entries.items() if entry.format not in ("flowmag", "motionmag")]
    for name in names:
        flow_spec(name)  # an unknown name fails before any download
        store.entry(name)
    for name in names:
        path = store.fetch(name, progress=not args.quiet)
        print(f"{name}: {path}", file=sys.stderr)


def run_flow_run(args: argparse.Namespace) -> None:
    import numpy as np
    import torch
    from torchvision.utils import flow_to_image

    from motionmag.flow import get_flow_model
    from motionmag.io.images import read_image, write_image

    image_a, image_b = read_image(args.image_a), read_image(args.image_b)
    if image_a.shape != image_b.shape:
        raise MotionmagError(f"the images differ in size: {image_a.shape[1]}x{image_a.shape[0]} and {image_b.shape[1]}x{image_b.shape[0]}")
    if args.output.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp"):
        raise MotionmagError(f"{args.output}: the output must be an image (.png, .jpg, ...)")
    for path in filter(None, (args.output, args.save_flow)):
        if not path.parent.is_dir():
            raise MotionmagError(f"{path}: the output folder {path.parent} does not exist")
    if args.save_flow and args.save_flow.suffix != ".npy":
        raise MotionmagError(f"{args.save_flow}: the raw flow is saved as .npy")
    device = _device(args.device)
    model = get_flow_model(args.model, device=device, preset=args.preset, weights=args.weights)

    def tensor(image):
        return torch.from_numpy(image).permute(2, 0, 1)[None].to(device, torch.float32) / 255.0

    with torch.no_grad():
        flow = model(tensor(image_a), tensor(image_b))[0].cpu()  # (2, H, W)
    if args.save_flow:
        tmp = args.save_flow.with_name(f".{args.save_flow.stem}.tmp.npy")
        np.save(tmp, flow.permute(1, 2, 0).numpy().astype(np.float32))
        tmp.replace(args.save_flow)
    write_image(args.output, flow_to_image(flow).permute(1, 2, 0).numpy())
    magnitude = flow.norm(dim=0)
    print(f"wrote {args.output}: {args.model}, mean |flow| {magnitude.mean():.3f} px, max {magnitude.max():.3f} px", file=sys.stderr)


def _source_index(args: argparse.Namespace):
    from motionmag.synth.sources import build_index

    if getattr(args, "index", None) is not None:
        if args.source or args.coco or args.voc:
            raise MotionmagError("--index replaces --source, --coco and --voc: give one or the other")
        return args.index
    if args.source != "coco-voc" and (args.coco or args.voc):
        raise MotionmagError("--coco and --voc go with --source coco-voc")
    return build_index(args.source or "demo", args.coco, args.voc)


def _check_output(path: Path, suffixes: tuple[str, ...]) -> None:
    if path.suffix.lower() not in suffixes:
        raise MotionmagError(f"{path}: the output must be {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise MotionmagError(f"{path}: the output folder {path.parent} does not exist")


def run_synth_preview(args: argparse.Namespace) -> None:
    import numpy as np

    from motionmag.io.images import write_image
    from motionmag.synth.generate import Generator
    from motionmag.synth.preview import contact_sheet, samples_from_set

    _check_output(args.output, (".png",))
    if args.count < 1 or args.start < 0:
        raise MotionmagError("--count is at least 1 and --start at least 0")
    if args.set is not None:
        making = [name for name in ("recipe", "sweep", "seed", "source", "coco", "voc", "index") if getattr(args, name) is not None]
        if making:
            raise MotionmagError(f"--{making[0]} is for making samples; a set is previewed as it is")
        chosen = samples_from_set(args.set, args.start, args.count)
    else:
        generator = Generator(args.recipe or {"name": "oh2018"}, _source_index(args), args.seed or 0)
        if args.sweep:  # the same scene at levels spread over the sweep, lowest to highest
            sweep = SWEEP_DEFAULTS[args.sweep]
            levels = sorted({round(k) for k in np.linspace(0, sweep["levels"][2] - 1, min(args.count, sweep["levels"][2]))})
            chosen = [generator.sweep_sample(args.start, sweep, k) for k in levels]
        else:
            chosen = [generator.sample(i) for i in range(args.start, args.start + args.count)]
    write_image(args.output, contact_sheet(chosen))
    print(f"wrote {args.output}: {len(chosen)} samples", file=sys.stderr)


def run_synth_index(args: argparse.Namespace) -> None:
    from motionmag.synth.sources import write_index

    _check_output(args.output, (".json",))
    index = _source_index(args)
    write_index(index, args.output)
    objects = index["objects"] if index["kind"] == "demo" else len(index["instances"])
    print(f"wrote {args.output}: {len(index['backgrounds'])} backgrounds, {objects} objects", file=sys.stderr)


def run_synth_generate(args: argparse.Namespace) -> None:
    from motionmag.synth.generate import set_settings, write_shard

    _check_output(args.output, (".h5",))
    if args.samples < 1 or (args.shard_size is not None and args.shard_size < 1) or args.threads < 1:
        raise MotionmagError("--samples, --shard-size and --threads are at least 1")
    settings = dict(recipe=args.recipe, samples=args.samples, shard_size=args.shard_size or args.samples, seed=args.seed)
    if args.sweep:
        settings["sweep"] = SWEEP_DEFAULTS[args.sweep]
    settings = set_settings(settings, "(command line)")
    count = write_shard(args.output, settings, _source_index(args), args.shard, progress=not args.quiet, threads=args.threads)
    print(f"wrote {args.output}: {count} samples", file=sys.stderr)


def run_synth_pairs(args: argparse.Namespace) -> None:
    from motionmag.data.pairs import write_pair_set
    from motionmag.synth.flow_pairs import FlowPairRecipe, FlowPairRenderer, PhotoPool, training_pairs

    _check_output(args.output, (".h5",))
    if args.count < 0 or args.size < 16 or not 0 < args.motion[0] <= args.motion[1]:
        raise MotionmagError("--count is at least 0, --size at least 16, and 0 < --motion MIN <= MAX")
    for clip in args.clip:
        if not clip.exists():
            raise MotionmagError(f"{clip}: no such clip")
    renderer = FlowPairRenderer(FlowPairRecipe(size=args.size, motion=tuple(args.motion)), PhotoPool(args.clip))
    count = write_pair_set(args.output, training_pairs(renderer, args.count, args.seed, args.clip))
    print(f"wrote {args.output}: {count} pairs", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except MotionmagError as err:
        print(f"motionmag: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # permissions, a full disk, ...: still one line
        message = f"{err.filename}: {err.strerror}" if err.filename else str(err)
        print(f"motionmag: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motionmag: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
