"""``motionmag analyze``: see, measure and choose before you magnify.

One streaming pass over the input (``motionmag.analysis.analyze``): the motion of each region in
pixels, its spectrum and peaks, a suggested band per region and overall, where the frame moves in
that band, and the camera motion removed when asked. The report folder (CSV, JSON, PNG plots,
index.html) is written into a hidden temporary sibling and renamed into place once complete;
a short summary goes to stdout. ``magnify --band auto`` runs the same analysis (see
:func:`pick_band`).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from motionmag.cli._common import add_command, grid, optional_value, region_like
from motionmag.errors import MotionmagError

EXAMPLES = """\
examples:
  motionmag analyze baby.mp4                                  # a 3x3 grid of regions -> baby_analysis/
  motionmag analyze baby.mp4 --roi 380,200,240,160 --roi 0,0,960,80 -o out/baby
  motionmag analyze baby.mp4 --mask chest.png --band 0.4,3    # map and amplitudes in 0.4-3 Hz
  motionmag analyze baby.mp4 --stabilize 0,0,960,80           # remove camera motion fitted on the bars
  motionmag analyze baby.mp4 --stabilize --stabilize-model affine --grid 4x4
  motionmag analyze frames/ --fps 60 --resolution 0.25        # 0.25 Hz bins: needs 240 frames
  motionmag analyze baby.mp4 --estimator dis                  # an optical flow from the zoo instead
  motionmag analyze baby.mp4 --video baby_linear_x10.mp4      # the page shows the magnified video too
  motionmag magnify baby.mp4 --method linear --alpha 10 --band auto   # analyse, then magnify its band

Regions: --roi x,y,w,h (pixels, origin top left; repeat for more) and --mask FILE (.npy or an
image, the video's size); none: a --grid of rectangles (3x3, named r1c1 top left to r3c3).
Displacement is measured from frame 0, in pixels; spectra by Welch's method, resolution fps /
segment length (the whole clip up to 512 frames unless --resolution); the suggested band is the
strongest peak's half-amplitude lobe plus a bin each side (docs/analysis.md).
--stabilize [x,y,w,h]: remove the camera's motion first, fitted on a region that should be still
(default the whole frame; also --stabilize=FILE for a mask).
The folder (default INPUT-STEM_analysis/) holds index.html, analysis.json, series.csv,
spectra.csv, amplitude_map.npy and the plots; an existing report folder there is replaced.
"""


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "analyze", help="measure the motion per region, its spectrum and a band to magnify",
                         description="Measure how each region of INPUT moves (pixels, from frame 0), its spectrum and peaks;\n"
                                     "suggest a band to magnify, map where the frame moves in it, and write a report\n"
                                     "folder (HTML, JSON, CSV, PNG) and a summary on stdout.",
                         examples=EXAMPLES, prepare=prepare_args)
    parser.add_argument("input", type=Path, help="a video file or a folder of frame images")
    parser.add_argument("--roi", action="append", default=[], metavar="X,Y,W,H", help="a rectangle to measure, pixels (repeat for more)")
    parser.add_argument("--mask", action="append", type=Path, default=[], metavar="FILE", help="a region as a mask file, .npy or an image of the video's size (repeat for more)")
    parser.add_argument("--grid", type=grid, metavar="RxC", help="rows x columns of rectangles when no --roi or --mask is given (default: 3x3)")
    parser.add_argument("--estimator", default="phase", help="phase (default: local phase, the most accurate on sub-pixel motion) or a flow model: dis, farneback, lk, lk-normalized, raft-things, ... (motionmag flow list)")
    parser.add_argument("--band", metavar="LOW,HIGH", help="the band (Hz) of the amplitude map and of each region's band amplitude (default: the suggested band)")
    parser.add_argument("--resolution", type=float, metavar="HZ", help="the frequency resolution to reach (needs fps / HZ frames; default: the finest the clip allows)")
    parser.add_argument("--stabilize", nargs="?", const="", metavar="X,Y,W,H", help="remove the camera's motion first, fitted on this still region (default: the whole frame)")
    parser.add_argument("--stabilize-model", default="translation", choices=["translation", "affine", "homography"], help="the camera motion model (default: translation)")
    parser.add_argument("--video", type=Path, metavar="MAGNIFIED.mp4", help="a (magnified) video for the report page to show next to the plots")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT_DIR", help="the report folder (default: INPUT-STEM_analysis here)")
    parser.add_argument("--fps", type=float, help="frame rate of a frame folder, > 0 (default 30); video files keep their own")
    parser.add_argument("--backend", default="av", choices=["av", "cv2", "decord"], help="video decoder (default: av)")
    parser.add_argument("--device", default="cpu", help="for a flow-network estimator: cpu (default), cuda, ...")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def prepare_args(args: list[str]) -> list[str]:
    """``--stabilize`` without a region (followed by the input, another flag or nothing)."""
    return optional_value(args, "--stabilize", region_like, ["--stabilize="])


# ---- shared with magnify --------------------------------------------------------------------


def stabilize_settings(args: argparse.Namespace) -> tuple[str | None, object]:
    """(model, still region) from ``--stabilize [x,y,w,h]`` and ``--stabilize-model``: (None, None)
    without --stabilize; the region is None (the whole frame), a parsed rectangle or a mask path.
    A malformed rectangle or an unknown model is a one-line error before any work."""
    from motionmag.analysis.regions import parse_roi
    from motionmag.analysis.stabilizer import check_model

    if args.stabilize is None:
        if args.stabilize_model != "translation":
            raise MotionmagError("--stabilize-model applies with --stabilize")
        return None, None
    model = check_model(args.stabilize_model)
    text = args.stabilize.strip()
    if not text:
        return model, None
    if "," in text:
        return model, parse_roi(text, "still")
    return model, Path(text)


def check_still(still, width: int, height: int):
    """The still region checked against the frame (a one-line error if it reaches outside it, is
    empty, or is a mask of another size), as a Region; None stays None (the whole frame)."""
    from motionmag.analysis.regions import as_region, check_region

    if still is None:
        return None
    return check_region(as_region(still, 1, (height, width)), width, height)


def describe_still(region) -> str:
    if region is None:
        return "the whole frame"
    if getattr(region, "rect", None) is not None:
        return "{},{},{},{}".format(*region.rect)
    return str(getattr(region, "source", region))


def removed_motion(shifts) -> tuple[float, float]:
    """(max, RMS) px of the camera motion removed, as the report's JSON states them (RMS about the
    mean shift, max from frame 0's position)."""
    import numpy as np

    s = np.asarray(shifts, np.float64).reshape(-1, 2)
    if not len(s):
        return 0.0, 0.0
    return float(np.hypot(*s.T).max()), float(np.sqrt(((s - s.mean(0)) ** 2).sum(1).mean()))


def band_peak(analysis, band) -> tuple[str | None, float, float]:
    """Why a band: (region, frequency Hz, amplitude px) of the strongest region peak inside it;
    without one, the peak of the regions' mean spectrum (region None)."""
    best = None
    for r in analysis.regions:
        for peak in r.peaks:
            if band[0] <= peak.frequency <= band[1] and (best is None or peak.amplitude > best[2]):
                best = (r.region.name, peak.frequency, peak.amplitude)
    if best is not None:
        return best
    from motionmag.analysis.bands import mean_spectrum
    from motionmag.analysis.spectrum import find_peaks

    peaks = find_peaks(mean_spectrum([r.spectrum for r in analysis.regions]), max_peaks=1)
    return (None, peaks[0].frequency, peaks[0].amplitude) if peaks else (None, math.nan, math.nan)


def pick_band(analysis) -> tuple[tuple[float, float], str]:
    """The overall suggested band and a line saying why, or a one-line error without a peak."""
    if analysis.band is None:
        where = ", ".join(r.region.name for r in analysis.regions)
        raise MotionmagError(
            f"--band auto found no clear motion peak ({where}: none at least 10x the noise floor and 0.01 px, "
            f"{analysis.num_frames} frames at {analysis.resolution:.3g} Hz resolution); give the band yourself: --band LOW HIGH (Hz)"
        )
    region, frequency, amplitude = band_peak(analysis, analysis.band)
    where = f" in {region}" if region else " (regions' mean)"
    stabilised = ", stabilised" if analysis.stabilization is not None else ""
    why = (f"the strongest motion is at {frequency:.3g} Hz, {amplitude:.3g} px{where} "
           f"({len(analysis.regions)} region{'s' if len(analysis.regions) != 1 else ''}, {analysis.num_frames} frames, "
           f"{analysis.resolution:.3g} Hz resolution{stabilised})")
    return analysis.band, why


def fmt_band(band) -> str:
    return "none" if band is None else f"{band[0]:.3g}-{band[1]:.3g} Hz"


def summary(analysis, name: str) -> str:
    """The lines printed after an analysis: the clip, the camera motion removed, each region's
    strongest peak and band, the overall suggested band."""
    a = analysis
    lines = [f"{name}: {a.num_frames} frames, {a.width}x{a.height} at {a.fps:g} fps; estimator {a.estimator.get('name')}; "
             f"resolution {a.resolution:.3g} Hz (Welch segments of {a.nperseg} frames), Nyquist {a.nyquist:g} Hz"]
    if a.stabilization is not None:
        s = a.stabilization
        most, rms = removed_motion(s.shifts)
        line = (f"camera motion removed ({s.model}, fitted on {describe_still(s.region)}): "
                f"max {most:.3g} px, RMS {rms:.3g} px")
        if s.peaks:
            line += f"; strongest at {s.peaks[0].frequency:.3g} Hz, {s.peaks[0].amplitude:.3g} px"
        lines.append(line)
    rows = [("region", "x,y,w,h", "strongest peak", "px", "direction", "band")]
    for r in a.regions:
        box = "{},{},{},{}".format(*r.region.bbox)
        if r.peaks:
            p = r.peaks[0]
            rows.append((r.region.name, box, f"{p.frequency:.3g} Hz", f"{p.amplitude:.3g}", f"{p.direction:.0f} deg", fmt_band(r.band)))
        else:
            rows.append((r.region.name, box, "none", "", "", fmt_band(r.band)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    if a.band is None:
        lines.append("suggested band: none (no peak at least 10x the noise floor and 0.01 px)")
    else:
        region, frequency, amplitude = band_peak(a, a.band)
        lines.append(f"suggested band: {fmt_band(a.band)} (strongest motion {frequency:.3g} Hz, {amplitude:.3g} px"
                     f"{' in ' + region if region else ''})")
    return "\n".join(lines)


# ---- the command ----------------------------------------------------------------------------


def _check_output(out: Path) -> None:
    """Before the pass: the folder can be made (its parent exists and is writable), and what is
    there already is a report folder (or an empty one), which will be replaced."""
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise MotionmagError(f"{out}: the output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise MotionmagError(f"{out}: the output folder {parent} is not writable")
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or (out / "analysis.json").is_file())):
        raise MotionmagError(f"{out} exists and is not an analysis report folder; choose another -o")


def _publish(tmp: Path, out: Path) -> None:
    """Rename the complete report into place, replacing an older one only now."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=tmp.parent))
        os.replace(out, old / "report")
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def regions_from(args: argparse.Namespace):
    """The --roi rectangles (parsed now: a malformed one fails before the pass) and --mask files."""
    from motionmag.analysis.regions import parse_roi

    regions = [parse_roi(text, f"roi{i + 1}") for i, text in enumerate(args.roi)] + list(args.mask)
    return regions or None


def run(args: argparse.Namespace) -> None:
    from motionmag.analysis import analyze, write_report
    from motionmag.io import open_video
    from motionmag.io.video import check_fps

    # everything that can be checked without the frames, before the pass
    if args.fps is not None:
        check_fps(args.fps, "--fps")
    if args.resolution is not None and not (math.isfinite(args.resolution) and args.resolution > 0):
        raise MotionmagError(f"--resolution must be a finite number of Hz > 0, got {args.resolution:g}")
    regions = regions_from(args)
    if regions is not None and args.grid is not None:
        raise MotionmagError("--grid applies when no --roi or --mask is given")
    model, still = stabilize_settings(args)
    out = args.output or Path(f"{args.input.stem}_analysis")
    _check_output(out)
    device = args.device
    if device != "cpu":
        from motionmag.cli._common import resolve_device

        device = resolve_device(device)
    reader = open_video(args.input, backend=args.backend, fps=args.fps)
    fps = float(reader.info.fps)

    analysis = analyze(reader, fps, regions, estimator=args.estimator, band=args.band, resolution=args.resolution,
                       stabilize=model, still_region=still, grid=args.grid or (3, 3), num_frames=len(reader),
                       device=device, progress=not args.quiet)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if str(out.parent) else "."))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp's folder is private (0700); the report is as mkdir makes it
        write_report(analysis, tmp, video=args.video)
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(summary(analysis, args.input.name))
    print(f"wrote {out}/ (index.html, analysis.json, series.csv, spectra.csv, plots) in {analysis.seconds:.1f} s", file=sys.stderr)
