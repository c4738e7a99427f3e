"""``motionmag magnify``: magnify the motion in a video or a folder of frames.

Which flags go with which method and mode is read from the methods' declarations
(``motionmag.methods.method_spec``): a method's options with a flag of their own become flags
here, the rest are set with ``--param KEY=VALUE``.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from pathlib import Path

from motionmag.cli._common import add_command, key_value, resolve_device
from motionmag.errors import MotionmagError

EXAMPLES = """\
examples:
  motionmag magnify clip.mp4 --alpha 20                       # phase-based, against frame 0
  motionmag magnify clip.mp4 --method linear --alpha 10 -o out.mp4
  motionmag magnify frames/ --fps 30 --alpha 10 --band 0.5 3  # temporal band-pass, 0.5-3 Hz
  motionmag magnify clip.mp4 --method linear --alpha 10 --band auto   # the band `motionmag analyze` suggests
  motionmag magnify clip.mp4 --alpha 10 --band auto --roi 380,200,240,160   # ... for this region
  motionmag magnify clip.mp4 --alpha 20 --stabilize 0,0,960,80  # remove camera motion fitted on a still strip
  motionmag magnify clip.mp4 --alpha 20 --mask cat.npy --feather 25
  motionmag magnify clip.mp4 --alpha 10 --param orientations=4 --param sigma=0
  motionmag magnify clip.mp4 --method flowmag --checkpoint model.pt --alpha 20
  motionmag magnify clip.mp4 --method flowmag --alpha 40 --mask cat.npy --feather 25 --tta-steps 200
  motionmag magnify clip.mp4 --method oh2018 --checkpoint model.pt --alpha 10 --mode dynamic
  motionmag magnify clip.mp4 --method oh2018 --alpha 20 --filter diff-iir --band 0.04 0.4
  motionmag magnify frames/ --method oh2018 --alpha 30 --filter fir --band 0.5 3 --fps 30 --param taps=61
  motionmag flow fetch axial-mm && motionmag magnify clip.mp4 --method axial --checkpoint axial-mm --alpha 20
  motionmag magnify clip.mp4 --method axial --checkpoint axial_mm.tar --alpha 20 --param alpha_across=1 --param theta=45
  motionmag magnify clip.mp4 --method eulermormer --checkpoint magnet_epoch99_loss5.38e-02.pth --alpha 20
  motionmag magnify clip.mp4 --method stbvmm --checkpoint ckpt_e49.pth.tar --alpha 20 --mode dynamic

alpha is output motion / input motion for every method (1 leaves the video unchanged).
Modes: static magnifies each frame's motion relative to the first frame (any motion, no
frame rate needed); temporal magnifies only motion whose frequency lies in --band; dynamic
magnifies each frame's motion from the previous one (velocity, large motions), for
{dynamic} only.
--band auto analyses the input first (a streaming pass, as `motionmag analyze`: regions from
--roi, else a 3x3 grid), takes the suggested band around the strongest motion, says on stderr
which and why, and magnifies in temporal mode with it.
--stabilize [x,y,w,h] removes the camera's global motion (--stabilize-model translation, affine or
homography) fitted on that still region (default: the whole frame) before magnifying, for every
method and mode; the output is the stabilised video, magnified.
Temporal filters: iir (Wu et al.'s, band in Hz), diff-iir (the same filter given by its two
coefficients r_low r_high, as Oh et al.'s differenceOfIIR), butter (Butterworth, Hz), fir
(zero-phase windowed sinc, Hz; also called ideal).
flowmag is static only; above its trained range (16) it takes repeated passes of alpha**(1/n).
--checkpoint: for flowmag a model.pt from `motionmag train flowmag`, a training state, or an
original release file (raft_chkpt_00140.pth); for oh2018 a model.pt from `motionmag train
oh2018`. Default: the demo's, when it has been trained. axial, eulermormer and stbvmm have no demo
weights: give the authors' file, or its weights name (axial-mm, eulermormer, stbvmm) once fetched
with `motionmag flow fetch NAME`. axial: alpha is the factor along theta (degrees from the x
axis, --param theta=...), --param alpha_across=... the factor across it (default: alpha).
"""

# the options this command's own flags set, for every method that has them (-q/--quiet: progress)
OWN = ("mode", "band", "filter", "fps", "progress")


def _specs():
    """Every method's declaration, in the registry's order (which help and errors list them in)."""
    from motionmag.methods import method_specs

    return method_specs()


def _flagged(specs) -> dict[str, list]:
    """Every option with a flag of its own: its name -> [(spec, option), ...] of the methods that have it."""
    flagged: dict[str, list] = {}
    for spec in specs:
        for option in spec.options.values():
            if option.flag:
                flagged.setdefault(option.name, []).append((spec, option))
    return flagged


def _owners(specs, name: str) -> list[str]:
    return [spec.name for spec in specs if name in spec.options]


def _merged(texts: dict[str, str]) -> str:
    """One text if every method says the same (or the same before a colon), else each method's."""
    for shorten in (lambda text: text, lambda text: text.split(": ", 1)[0]):
        if len({shorten(text) for text in texts.values()}) == 1:
            return shorten(next(iter(texts.values())))
    return "; ".join(f"{name}: {text}" for name, text in texts.items())


def _flag_help(declared) -> str:
    methods = ", ".join(spec.name for spec, _ in declared)
    if all(spec.learned and option.name == "checkpoint" for spec, option in declared):
        demo = [spec.demo_weights for spec, _ in declared if spec.demo_weights]
        default = f"the released demo weights, {', '.join(demo)} in config/weights.yaml" if demo else ""
        without = [spec.name for spec, _ in declared if not spec.demo_weights]
        if without:
            default += f"{'; ' if demo else ''}none for {', '.join(without)}"
    else:
        default = _merged({spec.name: option.describe_default() for spec, option in declared})
    return f"{methods}: {_merged({spec.name: option.help for spec, option in declared})} (default: {default})"


def _param_value(option) -> str:
    """A default as --param would give it (YAML); auto: none given, the method chooses."""
    value = option.default
    if value is None:  # a one-word default_text names it (alpha_across=alpha); else the method chooses
        return option.default_text if option.default_text and " " not in option.default_text else "auto"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


_METAVARS = {int: "N", float: "X", Path: "FILE"}


def _methods_text(specs) -> str:
    """Each method's modes and the options that --param sets, with their defaults."""
    lines = ["methods (each one's other options, set with --param KEY=VALUE, with their defaults):"]
    width = max(len(spec.name) for spec in specs)
    for spec in specs:
        learned = ""
        if spec.learned and spec.demo_weights:
            learned = f"; learned, default weights {spec.demo_weights}"
        elif spec.learned:
            learned = f"; learned, needs --checkpoint (the authors' weights: {spec.released_weights})"
        lines.append(f"  {spec.name:<{width}}  modes: {', '.join(spec.modes)}{learned}")
        params = [f"{name}={_param_value(option)}" for name, option in spec.options.items()
                  if name not in OWN and not option.flag]
        indent = " " * (width + 4)
        lines.extend(textwrap.wrap(" ".join(params), 100, initial_indent=indent, subsequent_indent=indent))
    return "\n".join(lines) + "\n"


def _setup(parser) -> None:
    from motionmag.methods.base import MODES, TEMPORAL_FILTERS

    specs = _specs()
    modes = [mode for mode in MODES if any(mode in spec.modes for spec in specs)]
    parser.add_argument("input", type=Path, help="a video file or a folder of frame images")
    parser.add_argument("-o", "--output", type=Path, help="output .mp4 (or a folder name for PNG frames); default INPUT_METHOD_xALPHA.mp4 here")
    parser.add_argument("--method", default="phase", choices=sorted(spec.name for spec in specs), help="magnification method (default: phase)")
    parser.add_argument("--alpha", type=float, default=10.0, help="magnification factor, output / input motion: > 0 (below 1 attenuates), at most 1000 (default: 10)")
    parser.add_argument("--mode", choices=modes, help=_mode_help(specs, modes))
    parser.add_argument("--band", type=_band_value, nargs=2, metavar=("LOW", "HIGH"), help="temporal pass band in Hz (for diff-iir: its coefficients r_low r_high), or auto: the band an analysis of the input suggests")
    parser.add_argument("--roi", action="append", default=[], metavar="X,Y,W,H", help="with --band auto: the region (pixels) whose motion chooses the band (repeat for more; default: a 3x3 grid over the frame)")
    parser.add_argument("--stabilize", nargs="?", const="", metavar="X,Y,W,H", help="remove the camera's motion first, fitted on this still region (default: the whole frame)")
    parser.add_argument("--stabilize-model", default="translation", choices=["translation", "affine", "homography"], help="the camera motion --stabilize removes (default: translation)")
    parser.add_argument("--filter", choices=TEMPORAL_FILTERS, help="temporal filter (default: iir, Wu et al.'s)")
    parser.add_argument("--mask", type=Path, help="magnify only where this mask is on, same size as the video: .npy (bool, 0/1, 8-bit 0-255 or float in [0, 1]) or an image (grey above 127 on)")
    parser.add_argument("--feather", type=float, default=0.0, metavar="PX", help="soften the mask outwards over PX pixels (>= 0)")
    parser.add_argument("--fps", type=float, help="frame rate of a frame folder, > 0 (default 30); video files keep their own")
    for name, declared in _flagged(specs).items():
        option = declared[0][1]
        parser.add_argument(option.flag_name, type=option.type, metavar=_METAVARS.get(option.type), help=_flag_help(declared))
    parser.add_argument("--param", type=key_value, action="append", default=[], metavar="KEY=VALUE", help="a method's option, e.g. lambda_c=16 (linear) or sigma=1 (phase); each method's are listed below")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    parser.add_argument("--backend", default="av", choices=["av", "cv2", "decord"], help="video decoder (default: av)")
    parser.add_argument("--crf", type=int, default=18, help="H.264 quality, lower is better (default: 18)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    dynamic = " or ".join(_owners_of_mode(specs, "dynamic")) or "no method"
    parser.epilog = EXAMPLES.replace("{dynamic}", dynamic) + "\n" + _methods_text(specs)
    parser.set_defaults(run=run)


def _owners_of_mode(specs, mode: str) -> list[str]:
    return [spec.name for spec in specs if mode in spec.modes]


def _mode_help(specs, modes) -> str:
    from motionmag.methods.base import MODES

    when = {"static": "default", "temporal": "default when --band is given"}
    parts = []
    for mode in modes:
        notes = [when[mode]] if mode in when else []
        owners = _owners_of_mode(specs, mode)
        if len(owners) < len(specs):
            notes.append(", ".join(owners))
        parts.append(f"{mode}: {MODES[mode]}" + (f" ({'; '.join(notes)})" if notes else ""))
    return "; ".join(parts)


def _band_value(text: str):
    """A --band value: a number of Hz, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r} (a band is LOW HIGH in Hz, or auto)") from None


def prepare_args(args: list[str]) -> list[str]:
    """``--band auto`` (one word where a band is two numbers: doubled here for argparse) and
    ``--stabilize`` without a region (followed by the input, another flag or nothing)."""
    from motionmag.cli._common import optional_value, region_like

    args = optional_value(args, "--stabilize", region_like, ["--stabilize="])
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--":
            return out + args[i:]
        if args[i].lower() == "--band=auto" or (args[i] == "--band" and i + 1 < len(args) and args[i + 1].lower() == "auto"):
            out += ["--band", "auto", "auto"]
            i += 1 if "=" in args[i] else 2
            continue
        out.append(args[i])
        i += 1
    return out


def add_parser(subparsers) -> None:
    add_command(subparsers, "magnify", help="magnify the motion in a video or a folder of frames",
                description="Magnify the motion in INPUT and write a browser-playable H.264 MP4 (or a folder of PNGs).",
                examples=EXAMPLES, setup=_setup, prepare=prepare_args)


def _mode_error(spec, mode: str, specs) -> MotionmagError:
    from motionmag.methods.base import MODES

    if len(spec.modes) == 1:
        (only,) = spec.modes
        others = "/".join(m for m in MODES if m != only)
        band = "" if "band" in spec.options else "--band and "
        return MotionmagError(f"{spec.name} magnifies {MODES[only]} only: {band}--mode {others} do not apply")
    return MotionmagError(f"--mode {mode} is for --method {' or '.join(_owners_of_mode(specs, mode))}; "
                          f"{spec.name} has {' and '.join(spec.modes)}")


def method_settings(args: argparse.Namespace, fps: float) -> dict:
    """The magnifier's keyword arguments from the command line, checked against the method's
    declaration: a flag of another method's option, a mode it does not have or a temporal
    setting outside temporal mode is a one-line error."""
    from motionmag.methods import method_spec

    specs = _specs()
    spec = method_spec(args.method)
    settings = dict(args.param)
    settings["device"] = resolve_device(args.device)
    flagged = _flagged(specs)
    given = {name: getattr(args, name) for name in flagged if getattr(args, name) is not None}
    foreign = [name for name in given if name not in spec.options]
    if foreign:  # the first flag's owners, with every other flag that has the same ones
        owners = _owners(specs, foreign[0])
        flags = [flagged[name][0][1].flag_name for name in foreign if _owners(specs, name) == owners]
        raise MotionmagError(f"{', '.join(flags)}: only for --method {' or '.join(owners)}")
    mode = args.mode or ("temporal" if args.band else "static")
    if mode not in spec.modes:
        raise _mode_error(spec, mode, specs)
    for name in ("band", "filter"):
        if getattr(args, name) is None:
            continue
        option = spec.options.get(name)
        if option is None:
            raise MotionmagError(f"--{name}: only for --method {' or '.join(_owners(specs, name))}")
        if option.modes and mode not in option.modes:
            raise MotionmagError(f"--{name} is for --mode {' or '.join(option.modes)}, not {mode}")
    for name, value in given.items():
        option = spec.options[name]
        if option.minimum is not None and value < option.minimum:
            least = "0 or more" if option.minimum == 0 else f"at least {option.minimum:g}"
            raise MotionmagError(f"{option.flag_name} must be {least}, got {value}")
        settings[name] = value
    own = dict(zip(OWN, (mode, args.band, args.filter, fps, not args.quiet)))
    settings.update({name: value for name, value in own.items() if name in spec.options and value is not None})
    if spec.learned and settings.get("checkpoint") is None and not spec.demo_weights:
        fetch = (f"; the authors' are fetched with `motionmag flow fetch {spec.released_weights}`, then "
                 f"--checkpoint {spec.released_weights}") if spec.released_weights else ""
        raise MotionmagError(f"--method {spec.name} needs --checkpoint (no demo weights exist for it){fetch}")
    if spec.learned and settings.get("checkpoint") is None:
        from motionmag.flow.weights import WeightsStore

        settings["checkpoint"] = WeightsStore().require(spec.demo_weights)  # sha256-verified
        print(f"motionmag: {spec.name} uses the released demo weights {spec.demo_weights} ({settings['checkpoint']}): "
              "small models trained on a CPU, not the paper's; give --checkpoint for others", file=sys.stderr)
    return settings


def _auto_band(args: argparse.Namespace) -> bool:
    """Whether --band auto was asked (checked: auto alone, a filter that takes Hz); its band is a
    placeholder until the analysis gives one, so the method and mode are checked as for a given band."""
    if args.band is None or "auto" not in args.band:
        if args.roi:
            raise MotionmagError("--roi chooses the region whose motion --band auto magnifies: it goes with --band auto")
        return False
    if list(args.band) != ["auto", "auto"]:
        raise MotionmagError("--band is LOW HIGH in Hz, or auto alone")
    if args.filter == "diff-iir":
        raise MotionmagError("--band auto gives a band in Hz and --filter diff-iir takes coefficients: use iir, butter or fir")
    args.band = [0.0, 0.0]
    return True


def _rois(texts: list[str]):
    from motionmag.analysis import parse_roi

    return [parse_roi(text, f"roi{i + 1}") for i, text in enumerate(texts)] or None


def _check_output(output: Path) -> None:
    """What the writer checks when it opens, before a long analysis pass."""
    from motionmag.io.writer import VIDEO_SUFFIXES

    parent = output.parent if str(output.parent) else Path(".")
    if output.suffix and output.suffix.lower() not in VIDEO_SUFFIXES:
        raise MotionmagError(f"{output}: unknown output type; use one of {', '.join(VIDEO_SUFFIXES)} or a folder name")
    if not parent.is_dir():
        raise MotionmagError(f"{output}: the output folder {parent} does not exist")


def _analysed_band(args: argparse.Namespace, fps: float, num_frames: int, rois, model, still) -> tuple[float, float]:
    """--band auto: analyse the input (a streaming pass; stabilised as it will be magnified) and
    take the suggested band, saying on stderr which and why; no peak is a one-line error."""
    from motionmag.analysis import analyze
    from motionmag.cli.analyze import fmt_band, pick_band
    from motionmag.io import open_video

    analysis = analyze(open_video(args.input, backend=args.backend, fps=args.fps), fps, rois, stabilize=model,
                       still_region=still, num_frames=num_frames, progress=not args.quiet)
    band, why = pick_band(analysis)
    print(f"motionmag: --band auto: {fmt_band(band)}: {why}", file=sys.stderr)
    return band


def run(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from motionmag.analysis import stabilize_frames
    from motionmag.cli.analyze import check_still, describe_still, removed_motion, stabilize_settings
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
    auto = _auto_band(args)
    rois = _rois(args.roi)
    model, still = stabilize_settings(args)
    reader = open_video(args.input, backend=args.backend, fps=args.fps)
    frames = iter(reader)
    first = next(frames, None)
    if first is None:
        raise MotionmagError(f"{args.input}: the video has no frames")
    mask = None
    if args.mask is not None:
        mask = feather(load_mask(args.mask, size=first.shape[:2]), args.feather)
    still = check_still(still, first.shape[1], first.shape[0])
    settings = method_settings(args, float(reader.info.fps))
    output = args.output or Path(f"{args.input.stem}_{args.method}_x{alpha:g}.mp4")
    if auto:  # the analysis pass first: the output is checked before it, made after it
        _check_output(output)
        settings["band"] = _analysed_band(args, float(reader.info.fps), len(reader), rois, model, still)
    magnifier = get_magnifier(args.method, **settings)
    magnifier.validate_alpha(alpha)  # a method may honour less than the common bound: fail before any work
    if settings.get("tta_steps"):
        adapt_frames = open_video(args.input, backend=args.backend, fps=args.fps)
        if model is not None:  # adapt on what it will magnify
            adapt_frames = stabilize_frames(adapt_frames, still, model)
        magnifier.adapt(adapt_frames)

    def all_frames():
        yield first
        yield from frames

    stream = all_frames()
    stabilizer = None
    if model is not None:
        stream = stabilizer = stabilize_frames(stream, still, model)
    with open_writer(output, reader.info.fps, crf=args.crf) as writer:
        progress = tqdm(total=len(reader), unit="frame", desc=f"{args.method} x{alpha:g}", disable=args.quiet)
        for frame in magnifier.magnify(stream, alpha, mask=mask):
            writer.write(frame)
            progress.update()
        progress.close()
    print(f"wrote {output} ({writer.frames_written} frames, {float(reader.info.fps):g} fps)", file=sys.stderr)
    if stabilizer is not None:
        most, rms = removed_motion(stabilizer.shifts)
        print(f"motionmag: stabilised ({model}, fitted on {describe_still(stabilizer.region)}): camera motion removed "
              f"max {most:.3g} px, RMS {rms:.3g} px", file=sys.stderr)
