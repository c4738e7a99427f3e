"""The ``motionmag`` command line.

Bad input (a missing or unreadable file, an empty video, a mask of the wrong size, a bad alpha,
an unwritable output) ends with one line on stderr and exit status 2; no output file is left
half-written, and an existing output is only replaced once the new one is complete.
"""

from __future__ import annotations

import argparse
import json
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

alpha is output motion / input motion for every method (1 leaves the video unchanged).
Modes: static magnifies each frame's motion relative to the first frame (any motion, no
frame rate needed); temporal magnifies only motion whose frequency lies in --band.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2) instead of the usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _key_value(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip().replace("-", "_"), yaml.safe_load(value)


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
    magnify.add_argument("--method", default="phase", choices=["linear", "phase"], help="magnification method (default: phase)")
    magnify.add_argument("--alpha", type=float, default=10.0, help="magnification factor, output / input motion (default: 10)")
    magnify.add_argument("--mode", choices=["static", "temporal"], help="static: against frame 0 (default); temporal: band-pass in time (default when --band is given)")
    magnify.add_argument("--band", type=float, nargs=2, metavar=("LOW", "HIGH"), help="temporal pass band in Hz")
    magnify.add_argument("--filter", default="iir", choices=["iir", "butter", "ideal"], help="temporal filter (default: iir, Wu et al.'s)")
    magnify.add_argument("--mask", type=Path, help="magnify only where this mask is on (.npy or image, same size as the video)")
    magnify.add_argument("--feather", type=float, default=0.0, metavar="PX", help="soften the mask outwards over PX pixels")
    magnify.add_argument("--fps", type=float, help="frame rate of a frame folder (default 30); video files keep their own")
    magnify.add_argument("--param", type=_key_value, action="append", default=[], metavar="KEY=VALUE", help="a method setting, e.g. lambda_c=16 (linear), orientations=4 or sigma=0 (phase)")
    magnify.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    magnify.add_argument("--backend", default="av", choices=["av", "cv2", "decord"], help="video decoder (default: av)")
    magnify.add_argument("--crf", type=int, default=18, help="H.264 quality, lower is better (default: 18)")
    magnify.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    magnify.set_defaults(run=run_magnify)

    render = commands.add_parser(
        "render",
        help="render a synthetic clip with known sub-pixel motion (for tests and demos)",
        description="Render a synthetic clip (textured object over a textured background, sinusoidal sub-pixel motions) to a video or PNG folder, with its ground truth as JSON.",
    )
    render.add_argument("output", type=Path, help="output .mp4 or folder")
    render.add_argument("--alpha", type=float, default=1.0, help="render the ground truth of this magnification (default: 1, the input)")
    render.add_argument("--set", type=_key_value, action="append", default=[], metavar="KEY=VALUE", help="a clip setting, e.g. frames=60 or object_motion={amplitude: 0.25}")
    render.set_defaults(run=run_render)
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


def run_magnify(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from motionmag.io import feather, load_mask, open_video, open_writer
    from motionmag.methods import get_magnifier
    from motionmag.methods.base import check_alpha

    alpha = check_alpha(args.alpha)
    reader = open_video(args.input, backend=args.backend, fps=args.fps)
    frames = iter(reader)
    first = next(frames, None)
    if first is None:
        raise MotionmagError(f"{args.input}: the video has no frames")
    mask = None
    if args.mask is not None:
        mask = feather(load_mask(args.mask, size=first.shape[:2]), args.feather)
    mode = args.mode or ("temporal" if args.band else "static")
    settings = dict(args.param)
    settings.update(mode=mode, band=args.band, fps=float(reader.info.fps), filter=args.filter, device=_device(args.device))
    magnifier = get_magnifier(args.method, **settings)
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


def run_render(args: argparse.Namespace) -> None:
    from motionmag.data.demo import DemoClip, DemoRenderer
    from motionmag.io import open_writer
    from motionmag.methods.base import check_alpha

    alpha = check_alpha(args.alpha)
    clip = DemoClip.from_dict(dict(args.set))
    renderer = DemoRenderer(clip)
    with open_writer(args.output, clip.fps) as writer:
        for frame in renderer.frames(alpha):
            writer.write(frame)
    obj, bg = renderer.displacements(alpha)
    truth = {"clip": clip.to_dict(), "alpha": alpha, "object_displacement": obj.tolist(), "background_displacement": bg.tolist()}
    Path(f"{args.output}.json").write_text(json.dumps(truth, indent=1))
    print(f"wrote {args.output} and {args.output}.json", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except MotionmagError as err:
        print(f"motionmag: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motionmag: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
