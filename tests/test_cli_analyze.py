"""`motionmag analyze`, `magnify --band auto` and `--stabilize` on a rendered clip with known motion.

The clip (motionmag.analysis.synthetic, PNG frames, lossless): 160x120, 120 frames at 30 fps
(0.25 Hz bins), patch A moving 0.5 px at 2 Hz along x, patch B 0.3 px at 6 Hz along y, and the
whole picture shaken by a smooth random camera translation of up to 0.6 px per axis.
"""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest

from conftest import run_motionmag
from motionmag.analysis.report import FILES
from motionmag.analysis.synthetic import Patch, SyntheticClip

FPS, FRAMES, BIN = 30.0, 120, 30.0 / 120
PATCH_A = Patch((14, 20, 56, 56), 0.5, 2.0, 0.0)
PATCH_B = Patch((90, 20, 56, 56), 0.3, 6.0, 90.0)
ROI_A = "%d,%d,%d,%d" % PATCH_A.inner()
ROI_B = "%d,%d,%d,%d" % PATCH_B.inner()
STILL = "8,86,144,26"  # background only, below the patches


def _write_frames(folder, frames) -> None:
    folder.mkdir()
    for t, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{t:04d}.png"), frame[..., ::-1])


@pytest.fixture(scope="module")
def scene():
    return SyntheticClip(width=160, height=120, frames=FRAMES, fps=FPS, patches=[PATCH_A, PATCH_B], shake=0.6, seed=5)


@pytest.fixture(scope="module")
def clip(scene, tmp_path_factory):
    folder = tmp_path_factory.mktemp("analyze") / "clip"
    _write_frames(folder, scene)
    return folder


@pytest.fixture(scope="module")
def still_clip(tmp_path_factory):
    """Nothing moves: no peak to find."""
    folder = tmp_path_factory.mktemp("still") / "still"
    _write_frames(folder, SyntheticClip(width=64, height=48, frames=24, fps=FPS, seed=1))
    return folder


def _one_line(result, expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def _band_line(stderr: str) -> tuple[float, float, float]:
    """(low, high, peak frequency) from magnify's --band auto line."""
    match = re.search(r"--band auto: ([\d.]+)-([\d.]+) Hz: the strongest motion is at ([\d.]+) Hz, ([\d.]+) px", stderr)
    assert match, stderr
    return float(match[1]), float(match[2]), float(match[3])


def test_analyze_writes_the_report_and_finds_each_regions_peak(clip, scene, tmp_path):
    out = tmp_path / "report"
    result = run_motionmag("analyze", clip, "--roi", ROI_A, "--roi", ROI_B, "--stabilize", STILL, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary left beside it
    data = json.loads((out / "analysis.json").read_text())
    assert data["frames"] == FRAMES and data["spectrum"]["resolution_hz"] == pytest.approx(BIN)
    regions = {r["name"]: r for r in data["regions"]}
    for name, patch in (("roi1", PATCH_A), ("roi2", PATCH_B)):
        peak = regions[name]["peaks"][0]
        assert abs(peak["frequency_hz"] - patch.frequency) <= BIN, (name, peak)
        assert peak["amplitude_px"] == pytest.approx(patch.amplitude, rel=0.15), (name, peak)
        low, high = regions[name]["suggested_band_hz"]
        assert low <= patch.frequency <= high
    # the camera motion removed is the shake, and the summary says so
    truth = float(np.hypot(*scene.camera.T).max())
    assert data["stabilization"]["max_px"] == pytest.approx(truth, abs=0.05)
    summary = result.stdout
    assert re.search(r"camera motion removed \(translation, fitted on 8,86,144,26\): max [\d.]+ px, RMS [\d.]+ px", summary), summary
    assert re.search(r"roi1 .* 2 Hz .* 0\.[45]\d* ", summary) and re.search(r"roi2 .* 6 Hz ", summary), summary
    assert "suggested band:" in summary and "report" in result.stderr


def test_analyze_default_grid_folder_and_bare_stabilize(clip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_motionmag("analyze", "--stabilize", clip, "--grid", "2x3", "-q")  # --stabilize takes no region here
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "clip_analysis" / "analysis.json").read_text())
    assert [r["name"] for r in data["regions"]] == ["r1c1", "r1c2", "r1c3", "r2c1", "r2c2", "r2c3"]
    assert data["stabilization"]["region"] == "whole frame" and data["stabilization"]["max_px"] > 0.2
    assert "fitted on the whole frame" in result.stdout
    # run again: the report is replaced, only once complete
    again = run_motionmag("analyze", clip, "--grid", "1x2", "-q")
    assert again.returncode == 0, again.stderr
    assert len(json.loads((tmp_path / "clip_analysis" / "analysis.json").read_text())["regions"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip_analysis"]


def test_magnify_band_auto_picks_the_regions_band(clip, tmp_path):
    out = tmp_path / "out.mp4"
    result = run_motionmag("magnify", clip, "--method", "linear", "--alpha", 5, "--band", "auto", "--roi", ROI_A, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    low, high, peak = _band_line(result.stderr)
    assert low <= PATCH_A.frequency <= high and not low <= PATCH_B.frequency <= high
    assert abs(peak - PATCH_A.frequency) <= BIN
    assert "1 region, 120 frames" in result.stderr
    import av

    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == FRAMES
    # the other patch's region picks its own band
    other = run_motionmag("magnify", clip, "--method", "linear", "--alpha", 5, "--band=auto", "--roi", ROI_B, "-o",
                          tmp_path / "b.mp4", "-q", "--filter", "butter")
    assert other.returncode == 0, other.stderr
    low, high, _ = _band_line(other.stderr)
    assert low <= PATCH_B.frequency <= high and not low <= PATCH_A.frequency <= high


def test_magnify_stabilize_with_phase_removes_the_shake(clip, scene, tmp_path):
    from motionmag.analysis import analyze
    from motionmag.io import open_video

    out = tmp_path / "frames"
    result = run_motionmag("magnify", clip, "--method", "phase", "--alpha", 2, "--stabilize", STILL, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    match = re.search(r"stabilised \(translation, fitted on 8,86,144,26\): camera motion removed max ([\d.]+) px, RMS ([\d.]+) px",
                      result.stderr)
    assert match, result.stderr
    assert float(match[1]) == pytest.approx(float(np.hypot(*scene.camera.T).max()), abs=0.05)
    # the magnified output's background no longer moves (unstabilised, alpha 2 would move it 1.2 px)
    measured = analyze(open_video(out), FPS, [STILL])
    assert np.abs(measured.regions[0].series).max() < 0.1


def test_stabilize_reaches_flowmags_test_time_adaptation(clip, tmp_path, monkeypatch):
    """FlowMag's test-time adaptation reads the input a second time: that stream is stabilised too
    (the magnifier is replaced by a recorder: this is the command's plumbing, not FlowMag)."""
    import motionmag.methods as methods
    from motionmag.analysis import StabilizedFrames

    seen = {}

    class Recorder:
        def validate_alpha(self, alpha):
            return alpha

        def adapt(self, frames):
            seen["adapt"], seen["adapt_frames"] = frames, sum(1 for _ in frames)

        def magnify(self, frames, alpha, mask=None):
            seen["magnify"] = frames
            yield from frames

    monkeypatch.setattr(methods, "get_magnifier", lambda name, **settings: Recorder())
    result = run_motionmag("magnify", clip, "--method", "flowmag", "--alpha", 4, "--tta-steps", 1, "--stabilize", STILL,
                           "-o", tmp_path / "out.mp4", "-q")
    assert result.returncode == 0, result.stderr
    adapt, magnify = seen["adapt"], seen["magnify"]
    assert isinstance(adapt, StabilizedFrames) and isinstance(magnify, StabilizedFrames) and seen["adapt_frames"] == FRAMES
    assert np.allclose(adapt.shifts, magnify.shifts, atol=1e-9) and np.abs(adapt.shifts).max() > 0.2


def test_magnify_band_auto_without_a_peak_is_one_line(still_clip, tmp_path):
    result = run_motionmag("magnify", still_clip, "--method", "linear", "--band", "auto", "-o", tmp_path / "out.mp4", "-q")
    _one_line(result, "found no clear motion peak")
    assert "--band LOW HIGH" in result.stderr
    assert list(tmp_path.iterdir()) == []


ANALYZE_BAD = {
    "region outside the frame": (["--roi", "150,0,20,20"], "reaches outside the 160x120 frame"),
    "empty region": (["--roi", "0,0,0,10"], "is empty"),
    "malformed region": (["--roi", "1,2,3"], "a region is x,y,w,h"),
    "mask of another size": (["--mask", "{tmp}/small.npy"], "but the video is 160x120"),
    "band above Nyquist": (["--band", "1,20"], "reaches above the Nyquist frequency, 15 Hz"),
    "band not numbers": (["--band", "a,b"], "a band is two frequencies"),
    "band upside down": (["--band", "3,1"], "low < high"),
    "too few frames for the resolution": (["--resolution", "0.1"], "needs at least 300 frames"),
    "resolution not finite": (["--resolution", "nan"], "--resolution must be"),
    "resolution not a number": (["--resolution", "fine"], "invalid float value"),
    "grid of zero rows": (["--grid", "0x3"], "at least 1 row"),
    "grid with a region": (["--grid", "2x2", "--roi", "0,0,10,10"], "--grid applies when no --roi"),
    "still region outside": (["--stabilize", "0,100,160,40"], "reaches outside"),
    "model without --stabilize": (["--stabilize-model", "affine"], "--stabilize-model applies with --stabilize"),
    "unknown model": (["--stabilize", "--stabilize-model", "wobble"], "invalid choice"),
    "unknown estimator": (["--estimator", "nope"], "nope"),
    "fps zero": (["--fps", "0"], "--fps must be"),
    "output folder missing": (["-o", "{tmp}/no/such/report"], "does not exist"),
    "output is a file": (["-o", "{tmp}/small.npy"], "is not an analysis report folder"),
}


@pytest.mark.parametrize("case", ANALYZE_BAD, ids=list(ANALYZE_BAD))
def test_analyze_bad_input_is_one_line_exit_2_and_writes_nothing(case, clip, tmp_path):
    np.save(tmp_path / "small.npy", np.ones((10, 10), bool))
    args, expected = ANALYZE_BAD[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = run_motionmag("analyze", clip, "-o", tmp_path / "report", "-q", *[a.format(tmp=tmp_path) for a in args])
    _one_line(result, expected)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no report, no temporary


MAGNIFY_BAD = {
    "band auto on a static-only method": (["--method", "flowmag", "--band", "auto"], "flowmag magnifies against frame 0 only"),
    "band auto in static mode": (["--band", "auto", "--mode", "static"], "--band is for --mode temporal, not static"),
    "band auto with diff-iir": (["--band", "auto", "--filter", "diff-iir"], "--filter diff-iir takes coefficients"),
    "band auto and a number": (["--band", "auto", "3"], "unrecognized arguments: 3"),
    "band half auto": (["--band", "1", "auto"], "LOW HIGH in Hz, or auto alone"),
    "roi without band auto": (["--roi", "0,0,10,10"], "goes with --band auto"),
    "roi outside the frame": (["--band", "auto", "--roi", "150,0,20,20"], "reaches outside the 160x120 frame"),
    "band auto, output folder missing": (["--band", "auto", "-o", "{tmp}/no/out.mp4"], "does not exist"),
    "still region outside": (["--stabilize", "0,100,160,40"], "reaches outside the 160x120 frame"),
    "still region malformed": (["--stabilize", "0,0,10"], "a region is x,y,w,h"),
    "model without --stabilize": (["--stabilize-model", "homography"], "--stabilize-model applies with --stabilize"),
}


@pytest.mark.parametrize("case", MAGNIFY_BAD, ids=list(MAGNIFY_BAD))
def test_magnify_auto_and_stabilize_bad_input_is_one_line(case, clip, tmp_path):
    args, expected = MAGNIFY_BAD[case]
    result = run_motionmag("magnify", clip, "--method", "linear", "-q", "-o", tmp_path / "out.mp4",
                           *[a.format(tmp=tmp_path) for a in args])
    _one_line(result, expected)
    assert list(tmp_path.iterdir()) == []


def test_help_shows_the_examples():
    for command, words in (("analyze", ["--stabilize 0,0,960,80", "--band auto", "RxC"]),
                           ("magnify", ["--band auto", "--stabilize", "--roi"])):
        result = run_motionmag(command, "--help")
        assert result.returncode == 0
        for word in words:
            assert word in result.stdout, (command, word)
