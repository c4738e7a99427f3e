"""``motionmag render``: a synthetic clip with known sub-pixel motion, and its ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from motionmag.cli._common import add_command, key_value

EXAMPLES = """\
examples:
  motionmag render clip.mp4                                   # the demo clip, 48 frames at 24 fps
  motionmag render clip.mp4 --set frames=60 --set width=320 --set height=240
  motionmag render truth.mp4 --alpha 10                        # what x10 magnification should give
  motionmag render frames/ --set "object_motion={amplitude: 0.25, frequency: 2, direction: 30}"

Settings (--set) are motionmag.synth.clips.DemoClip's fields: width, height, frames, fps, background,
object, object_center, object_radii, smooth, object_motion and background_motion (amplitude in px,
frequency in Hz, direction in degrees). OUTPUT.json holds the settings and each frame's displacements.
"""


def add_parser(subparsers) -> None:
    render = add_command(subparsers, "render",
                         help="render a synthetic clip with known sub-pixel motion (for tests and demos)",
                         description="Render a synthetic clip (textured object over a textured background, sinusoidal sub-pixel motions) to a video or PNG folder, with its ground truth as JSON.",
                         examples=EXAMPLES)
    render.add_argument("output", type=Path, help="output .mp4 or folder")
    render.add_argument("--alpha", type=float, default=1.0, help="render the ground truth of this magnification, > 0 and at most 1000 (default: 1, the input)")
    render.add_argument("--set", type=key_value, action="append", default=[], metavar="KEY=VALUE", help="a clip setting, e.g. frames=60 or object_motion={amplitude: 0.25}")
    render.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from motionmag.synth.clips import DemoClip, DemoRenderer
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
