"""``motionmag synth``: Oh et al.-style synthetic sets (preview, index sources, generate shards) and
FlowMag's rendered training pairs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motionmag.cli._common import add_command, non_negative
from motionmag.errors import MotionmagError

PREVIEW_EXAMPLES = """\
examples:
  motionmag synth preview -o sheet.png                          # 6 demo samples at 384x384
  motionmag synth preview --recipe config/synthetic/demo.yaml --count 12 -o sheet.png
  motionmag synth preview results/synthetic/demo/manifest.json --start 100 -o sheet.png
  motionmag synth preview --sweep subpixel -o subpixel.png      # one scene at levels across the sweep
"""

INDEX_EXAMPLES = """\
examples:
  motionmag synth index -o sources.json                          # the demo source (scikit-image's photos)
  motionmag synth index --source coco-voc --coco coco/train2017 --voc VOCdevkit/VOC2012 -o sources.json
"""

GENERATE_EXAMPLES = """\
examples:
  motionmag synth generate config/synthetic/oh2018.yaml --index sources.json --samples 100000 \\
      --shard-size 1000 --shard 7 -o shard-7.h5                  # one of 100 shards, any machine
  motionmag synth generate config/synthetic/oh2018.yaml --sweep subpixel --samples 1000 -o subpixel.h5
"""

PAIRS_EXAMPLES = """\
examples:
  motionmag synth pairs --count 2000 --clip resources/clips/baby.mp4 -o pairs.h5   # FlowMag training pairs
  motionmag synth pairs --count 100 --size 96 --motion 0.1 1 -o small.h5
"""

ABOUT = """
Samples are Oh et al.'s four frames: A, B (= C with each layer's colours perturbed), C (every
layer moved by its own d) and amplified (moved by alpha d, perturbed like B). Sample i depends
only on (recipe, source index, seed, i), so shards can be made anywhere, in any order. Sweeps
are the paper's evaluation sets: subpixel (motion 0.04-1 px, magnified motion 10 px) and noise
(motion 0.05 px, alpha 200, photon noise factor 0.01-100); --samples is then scenes per level.
The workflow (rules synth_index, synth_shard, synth_manifest) does all this from config.yaml.
"""

EXAMPLES = PREVIEW_EXAMPLES + "".join(
    text.removeprefix("examples:\n") for text in (INDEX_EXAMPLES, GENERATE_EXAMPLES, PAIRS_EXAMPLES)) + ABOUT

SWEEP_DEFAULTS = {
    "subpixel": dict(kind="subpixel", levels=[0.04, 1.0, 15], magnified=10.0),
    "noise": dict(kind="noise", levels=[0.01, 100.0, 21], magnified=10.0, motion=0.05),
}


def _source_options(parser, index=True) -> None:
    parser.add_argument("--source", choices=["demo", "demo-heldout", "coco-voc"], help="where images come from (default: demo, bundled with scikit-image; demo-heldout: without the demo clips' photos)")
    parser.add_argument("--coco", type=Path, help="coco-voc: the COCO train2017 image folder")
    parser.add_argument("--voc", type=Path, help="coco-voc: the VOC2012 folder (JPEGImages, SegmentationObject, ImageSets)")
    if index:
        parser.add_argument("--index", type=Path, help="a source index from `synth index` (instead of --source)")


def add_parser(subparsers) -> None:
    synth = add_command(subparsers, "synth", help="Oh et al.-style synthetic sets: preview samples, index sources, generate shards",
                        description="The synthetic training and evaluation sets of Oh et al. 2018, rebuilt from the paper's recipe.",
                        examples=EXAMPLES)
    commands = synth.add_subparsers(dest="synth_command", required=True)

    preview = add_command(commands, "preview", help="write a contact sheet PNG of samples (A | B | C | amplified)",
                          description="Write a contact sheet of samples, from a set (a manifest or a shard) or made on the fly from a recipe.",
                          examples=PREVIEW_EXAMPLES + ABOUT)
    preview.add_argument("set", nargs="?", type=Path, help="manifest.json or a shard .h5 (default: make samples from --recipe)")
    preview.add_argument("-o", "--output", type=Path, default=Path("synth_preview.png"), help="PNG to write (default: synth_preview.png)")
    preview.add_argument("--recipe", type=Path, help="recipe when no set is given (default: the paper's, as config/synthetic/oh2018.yaml)")
    _source_options(preview)
    preview.add_argument("--sweep", choices=list(SWEEP_DEFAULTS), help="preview a sweep's scenes instead of training samples")
    preview.add_argument("--count", type=int, default=6, help="samples on the sheet (default: 6)")
    preview.add_argument("--start", type=int, default=0, help="first sample index (default: 0)")
    preview.add_argument("--seed", type=non_negative, help="seed when making samples (default: 0)")
    preview.set_defaults(run=run_preview)

    index = add_command(commands, "index", help="list a source's backgrounds and objects into an index (JSON)",
                        description="Scan a source once (for coco-voc: every VOC instance mask) and write the index that generation reads.",
                        examples=INDEX_EXAMPLES)
    _source_options(index, index=False)
    index.add_argument("-o", "--output", type=Path, required=True, help="index JSON to write")
    index.set_defaults(run=run_index)

    generate = add_command(commands, "generate", help="generate one shard of a set into HDF5",
                           description="Generate shard K of a set (samples K*S ... K*S+S-1) into an HDF5 sample file.",
                           examples=GENERATE_EXAMPLES + ABOUT)
    generate.add_argument("recipe", type=Path, help="recipe YAML, e.g. config/synthetic/oh2018.yaml")
    generate.add_argument("-o", "--output", type=Path, required=True, help="shard .h5 to write")
    _source_options(generate)
    generate.add_argument("--samples", type=int, default=100, help="samples in the whole set (sweeps: scenes per level; default: 100)")
    generate.add_argument("--shard-size", type=int, help="samples per shard (default: all in one)")
    generate.add_argument("--shard", type=int, default=0, help="which shard (default: 0)")
    generate.add_argument("--seed", type=non_negative, default=0, help="set seed (default: 0)")
    generate.add_argument("--sweep", choices=list(SWEEP_DEFAULTS), help="an evaluation sweep with the paper's levels instead of training samples")
    generate.add_argument("--threads", type=int, default=1, help="OpenCV threads (default: 1; run shards in parallel instead)")
    generate.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(run=run_generate)

    pairs = add_command(commands, "pairs", help="write a frame-pair file (HDF5) of rendered pairs plus real-clip pairs, to train FlowMag on",
                        description="Rendered pairs (layers of held-out photos moved by known sub-pixel amounts, motionmag.synth.flow_pairs) "
                                    "followed by FlowMag's candidate pairs (2k, 2k+s), s = 1 and 5, of each --clip.",
                        examples=PAIRS_EXAMPLES)
    pairs.add_argument("-o", "--output", type=Path, required=True, help="pair file .h5 to write")
    pairs.add_argument("--count", type=int, default=1000, help="rendered pairs (default: 1000)")
    pairs.add_argument("--size", type=int, default=160, help="side of the square rendered frames (default: 160)")
    pairs.add_argument("--motion", type=float, nargs=2, default=[0.05, 1.5], metavar=("MIN", "MAX"), help="translation range in px, log-uniform (default: 0.05 1.5)")
    pairs.add_argument("--clip", type=Path, action="append", default=[], help="a real clip (video or frame folder) whose pairs follow the rendered ones; repeatable")
    pairs.add_argument("--seed", type=non_negative, default=0, help="seed (default: 0)")
    pairs.set_defaults(run=run_pairs)


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


def run_preview(args: argparse.Namespace) -> None:
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


def run_index(args: argparse.Namespace) -> None:
    from motionmag.synth.sources import write_index

    _check_output(args.output, (".json",))
    index = _source_index(args)
    write_index(index, args.output)
    objects = index["objects"] if index["kind"] == "demo" else len(index["instances"])
    print(f"wrote {args.output}: {len(index['backgrounds'])} backgrounds, {objects} objects", file=sys.stderr)


def run_generate(args: argparse.Namespace) -> None:
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


def run_pairs(args: argparse.Namespace) -> None:
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
