"""Motion analysis (motionmag.analysis) on rendered clips with known motion.

The scene: a textured background with two textured patches, patch A moving 0.3 px at 1.2 Hz along
x and patch B 0.1 px at 7 Hz along y, and the whole picture shaken by a smooth random camera
translation of up to 0.5 px per axis; 240 frames at 30 fps (bins 0.125 Hz apart, so 1.2 Hz falls
between bins and 7 Hz on one).
"""

from __future__ import annotations

import json
import math
import tracemalloc

import cv2
import numpy as np
import pytest

from motionmag.errors import MotionmagError
from motionmag.analysis import (
    analyze,
    find_peaks,
    grid_regions,
    parse_roi,
    resolve_regions,
    segment_length,
    stabilize_frames,
    suggest_band,
    welch_spectrum,
    write_report,
)
from motionmag.analysis.stabilizer import MotionFitter, shift_image
from motionmag.analysis.synthetic import Patch, SyntheticClip

FPS = 30.0
FRAMES = 240
PATCH_A = Patch((30, 40, 64, 64), 0.3, 1.2, 0.0)
PATCH_B = Patch((140, 40, 64, 64), 0.1, 7.0, 90.0)
STILL = "8,116,224,36"  # background only, below the patches
ROIS = ["%d,%d,%d,%d" % PATCH_A.inner(), "%d,%d,%d,%d" % PATCH_B.inner(), STILL]


@pytest.fixture(scope="module")
def clip() -> SyntheticClip:
    return SyntheticClip(patches=[PATCH_A, PATCH_B], shake=0.5, frames=FRAMES, fps=FPS, seed=3)


@pytest.fixture(scope="module")
def frames(clip) -> list[np.ndarray]:
    return list(clip)


@pytest.fixture(scope="module")
def stabilised(frames):
    """Analysis with the camera shake removed, fitted on the whole frame (the default)."""
    return analyze(iter(frames), FPS, ROIS, stabilize="translation", num_frames=FRAMES)


def _rms(series: np.ndarray) -> float:
    return float(np.sqrt((np.asarray(series) ** 2).sum(axis=1).mean()))


# --- regions --------------------------------------------------------------------------------------


def test_parse_roi_and_grid():
    region = parse_roi(" 10, 20,30 ,40")
    assert region.rect == (10, 20, 30, 40) and region.bbox == (10, 20, 30, 40)
    cells = grid_regions(100, 61, 3, 3)
    assert [c.name for c in cells[:2]] == ["r1c1", "r1c2"] and len(cells) == 9
    assert sum(c.rect[2] * c.rect[3] for c in cells) == 100 * 61
    assert len(resolve_regions(None, 100, 61)) == 9
    names = [r.name for r in resolve_regions(["0,0,10,10", (5, 5, 10, 10)], 100, 61)]
    assert names == ["roi1", "roi2"]


def _bad_inputs(tmp_path):
    off = tmp_path / "off.npy"
    np.save(off, np.zeros((16, 24), np.float32))
    tiny = [np.zeros((16, 24, 3), np.uint8)] * 20
    gen = (np.zeros((16, 24, 3), np.uint8) for _ in range(20))
    return {
        "region outside the frame": lambda: analyze(tiny, FPS, ["20,0,10,10"]),
        "region of zero width": lambda: analyze(tiny, FPS, ["0,0,0,10"]),
        "mask off everywhere (file)": lambda: analyze(tiny, FPS, [str(off)]),
        "mask off everywhere (array)": lambda: analyze(tiny, FPS, [np.zeros((16, 24))]),
        "mask of another size": lambda: analyze(tiny, FPS, [np.ones((8, 8))]),
        "malformed rectangle": lambda: analyze(tiny, FPS, ["1,2,3"]),
        "band above Nyquist": lambda: analyze(tiny, FPS, band=(1.0, 20.0)),
        "band upside down": lambda: analyze(tiny, FPS, band=(3.0, 1.0)),
        "too few frames for the resolution": lambda: analyze(tiny, FPS, resolution=0.5),
        "too few frames, found at the end": lambda: analyze(gen, FPS, resolution=0.5),
        "unknown estimator": lambda: analyze(tiny, FPS, estimator="nope"),
        "unknown stabilisation model": lambda: analyze(tiny, FPS, stabilize="wobble"),
        "bad fps": lambda: analyze(tiny, 0),
        "no frames": lambda: analyze([], FPS),
        "frames too small": lambda: analyze([np.zeros((4, 6, 3), np.uint8)] * 20, FPS),
        "still region outside the frame": lambda: analyze(tiny, FPS, stabilize="translation", still_region="0,10,24,10"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "region outside the frame", "region of zero width", "mask off everywhere (file)", "mask off everywhere (array)",
        "mask of another size", "malformed rectangle", "band above Nyquist", "band upside down",
        "too few frames for the resolution", "too few frames, found at the end", "unknown estimator",
        "unknown stabilisation model", "bad fps", "no frames", "frames too small", "still region outside the frame",
    ],
)
def test_bad_inputs_are_one_line_errors(case, tmp_path):
    with pytest.raises(MotionmagError) as err:
        _bad_inputs(tmp_path)[case]()
    message = str(err.value)
    assert message and "\n" not in message, message


def test_error_messages_say_what_is_wrong(tmp_path):
    cases = _bad_inputs(tmp_path)
    for case, words in [
        ("region outside the frame", "outside the 24x16 frame"),
        ("region of zero width", "empty"),
        ("mask off everywhere (array)", "off everywhere"),
        ("band above Nyquist", "Nyquist frequency, 15 Hz"),
        ("too few frames for the resolution", "needs at least 60 frames"),
        ("too few frames, found at the end", "the clip has 20"),
    ]:
        with pytest.raises(MotionmagError, match=words):
            cases[case]()


# --- spectra and bands --------------------------------------------------------------------------


def test_resolution_rule():
    assert segment_length(30, 299) == 299  # the whole clip: 0.1 Hz bins
    assert segment_length(30, 5000) == 512  # capped
    assert segment_length(30, None) == 512
    assert segment_length(30, 600, resolution=0.1) == 300
    assert segment_length(30, 600, resolution=0.07) == 429  # ceil(30 / 0.07)


@pytest.mark.parametrize("frequency", [1.2, 1.25, 0.45, 7.0, 7.04])
def test_peak_amplitude_is_the_sinusoids(frequency):
    """A 0.3 px sinusoid reads 0.3 px whether it falls on a bin or between bins (window corrected)."""
    t = np.arange(300) / FPS
    angle = math.radians(30)
    s = 0.3 * np.sin(2 * np.pi * frequency * t + 0.4)
    series = np.stack([s * math.cos(angle), s * math.sin(angle)], 1)
    series += np.random.default_rng(0).normal(0, 0.002, series.shape)
    spectrum = welch_spectrum(series, FPS, segment_length(FPS, len(series)))
    assert spectrum.resolution == pytest.approx(0.1)
    (peak,) = find_peaks(spectrum)
    assert abs(peak.frequency - frequency) <= spectrum.resolution
    assert peak.amplitude == pytest.approx(0.3, rel=0.03)
    assert peak.direction == pytest.approx(30, abs=2)
    if abs(frequency / spectrum.resolution - round(frequency / spectrum.resolution)) < 1e-9:
        assert spectrum.amplitude().max() == pytest.approx(0.3, rel=0.03)  # on a bin: the plotted peak too


def test_band_rule_and_clipping():
    t = np.arange(300) / FPS
    for frequency in (1.2, 14.8, 0.3):
        series = np.stack([0.2 * np.sin(2 * np.pi * frequency * t), np.zeros_like(t)], 1)
        spectrum = welch_spectrum(series, FPS, 300)
        low, high = suggest_band(spectrum)
        assert 0 < low < frequency < high < FPS / 2
        assert high - low <= 6 * spectrum.resolution
    assert suggest_band(welch_spectrum(np.zeros((300, 2)), FPS, 300)) is None


# --- the rendered scene ---------------------------------------------------------------------------


def test_regions_peaks_bands_after_stabilisation(stabilised):
    a, b, still = stabilised.regions
    assert stabilised.resolution == pytest.approx(FPS / FRAMES)
    for region, patch, other in ((a, PATCH_A, PATCH_B), (b, PATCH_B, PATCH_A)):
        peak = region.peaks[0]
        assert abs(peak.frequency - patch.frequency) <= stabilised.resolution, (region.region.name, peak)
        assert peak.amplitude == pytest.approx(patch.amplitude, rel=0.10), (region.region.name, peak)
        assert region.band[0] < patch.frequency < region.band[1]
        assert not region.band[0] <= other.frequency <= region.band[1]
    assert 0 < stabilised.band[0] < PATCH_A.frequency < stabilised.band[1]  # the overall band: A is strongest


def test_stabilisation_stills_the_background_and_keeps_the_regions(clip, stabilised):
    a, b, still = stabilised.regions
    # the background's measured motion, largest over all frames of |d|: under 0.05 px
    assert np.hypot(*still.series.T).max() < 0.05
    assert not still.peaks
    # each patch keeps its own motion: series within 10 % (RMS error over the motion's RMS)
    for region, index in ((a, 0), (b, 1)):
        truth = clip.motion(index)
        assert _rms(region.series - truth) < 0.10 * _rms(truth)
    # the motion removed is the camera's
    removed = stabilised.stabilization.shifts
    assert np.abs(removed - clip.camera).max() < 0.05
    assert stabilised.stabilization.transforms.shape == (FRAMES, 3, 3)


def test_without_stabilisation_the_shake_is_measured(frames, clip):
    result = analyze(iter(frames[:120]), FPS, [STILL])
    measured = result.regions[0].series
    assert _rms(clip.camera[:120]) > 0.2
    assert np.abs(measured - clip.camera[:120]).max() < 0.02  # the estimator sees the camera accurately


def test_amplitude_map_shows_where_it_moves(stabilised):
    amplitude, cell = stabilised.amplitude_map, stabilised.map_cell
    rows, cols = amplitude.shape
    assert (rows, cols) == (round(160 / cell), round(240 / cell))
    x, y, w, h = PATCH_A.inner(10)
    inside = amplitude[y // cell : (y + h) // cell, x // cell : (x + w) // cell]
    outside = amplitude[int(120 / cell) :, :]  # the background strip
    assert np.nanmedian(inside) == pytest.approx(PATCH_A.amplitude, rel=0.10)
    assert np.nanmax(outside) < 0.05


def test_stabilize_frames_streams_warped_frames(frames, clip):
    stream = stabilize_frames(iter(frames[:150]), region=STILL)
    result = analyze(stream, FPS, ROIS)
    assert len(stream.transforms) == 150 and stream.shifts.shape == (150, 2)
    assert np.abs(stream.shifts - clip.camera[:150]).max() < 0.03
    a, b, still = result.regions
    assert np.hypot(*still.series.T).max() < 0.05
    for region, index in ((a, 0), (b, 1)):
        truth = clip.motion(index)[:150]
        assert _rms(region.series - truth) < 0.10 * _rms(truth)


def test_stabilize_frames_keeps_dtype_and_size(frames):
    out = list(stabilize_frames(iter(frames[:3])))
    assert [f.dtype for f in out] == [np.uint8] * 3 and out[0].shape == frames[0].shape
    assert np.array_equal(out[0], frames[0])  # frame 0 is the reference


@pytest.mark.parametrize("model", ["affine", "homography"])
def test_affine_and_homography_fits(model):
    clip = SyntheticClip(width=200, height=150, frames=1)
    grey = clip.frame(0)[..., 0].astype(np.float32) / 255
    # frame 0 coordinates -> frame t coordinates: a 0.2 degree rotation about the centre, 0.3 % zoom, a shift
    a = math.radians(0.2)
    cx, cy = 99.5, 74.5
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]) * np.array([1.003, 1.003, 1])[:, None]
    rot[2] = (0, 0, 1)
    truth = np.array([[1, 0, cx + 0.4], [0, 1, cy - 0.3], [0, 0, 1]]) @ rot @ np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    moved = cv2.warpAffine(grey, np.linalg.inv(truth)[:2], (200, 150), flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    fitted = MotionFitter(grey, None, model).fit(moved)
    ys, xs = np.mgrid[10:140:10, 10:190:10]
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    p_fit, p_true = fitted @ points, truth @ points
    error = np.abs(p_fit[:2] / p_fit[2] - p_true[:2] / p_true[2]).max()
    assert error < 0.05, error


def test_shift_image_is_exact_to_a_thousandth_of_a_pixel():
    clip = SyntheticClip(width=128, height=96, frames=1, patches=[], shake=0.0)
    from motionmag.analysis.phase import LocalPhase, solve

    grey = clip.frame(0)[..., 0].astype(np.float32) / 255
    phase = LocalPhase()
    phase.start(grey)
    for dx, dy in ((0.37, -0.81), (-1.6, 2.25)):
        back = shift_image(shift_image(grey, -dx, -dy), dx, dy)  # move by (dx, dy), then undo it
        d = solve(phase.normals(back)[:, 16:-16, 16:-16].sum(axis=(1, 2)))
        assert np.abs(d).max() < 0.003


# --- streaming ------------------------------------------------------------------------------------


def test_analysis_streams_without_holding_frames():
    """A generator of 600 frames: the traced peak does not grow with the clip (150 vs 600 frames) and
    stays far below the frames' own size (600 uint8 frames: 9.2 MB)."""
    clip = SyntheticClip(width=80, height=64, patches=[Patch((16, 12, 40, 40), 0.3, 1.2)], frames=2)
    a, b = clip.frame(0), clip.frame(1)
    frame_bytes = a.nbytes

    def generator(n):
        for t in range(n):
            yield (a if t % 2 == 0 else b).copy()

    analyze(generator(40), FPS, resolution=1.0)  # warm up (imports, caches)
    peaks = {}
    for n in (150, 600):
        tracemalloc.start()
        result = analyze(generator(n), FPS, ["16,12,40,40"], resolution=0.25)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.num_frames == n
    assert peaks[600] < 1.05 * peaks[150], peaks  # only the (x, y) series grow: 16 bytes a frame
    # a fixed workspace: the local-phase filters' planes (frame 0's and the current frame's, about
    # 50 float32 grey planes) and the map's ring buffer (nperseg = 120 coarse fields)
    plane = 80 * 64 * 4
    ring = 120 * 2 * result.amplitude_map.size * 4
    assert peaks[600] < ring + 64 * plane, (peaks, ring, plane)
    assert peaks[600] < 0.25 * 600 * frame_bytes  # holding the frames would take 600 uint8 frames


# --- other estimators, masks, report ------------------------------------------------------------


def test_flow_estimator_by_name():
    clip = SyntheticClip(width=128, height=96, patches=[Patch((24, 16, 72, 64), 0.5, 3.0, 0.0)], frames=40, seed=1)
    result = analyze(clip, FPS, ["%d,%d,%d,%d" % clip.patches[0].inner(8)], estimator="dis")
    peak = result.regions[0].peaks[0]
    assert result.estimator["name"] == "dis"
    assert abs(peak.frequency - 3.0) <= result.resolution
    assert peak.amplitude == pytest.approx(0.5, rel=0.10)


def test_mask_region_matches_the_rectangle(frames, tmp_path):
    x, y, w, h = PATCH_A.inner()
    mask = np.zeros((160, 240), np.uint8)
    mask[y : y + h, x : x + w] = 255
    cv2.imwrite(str(tmp_path / "a.png"), mask)
    result = analyze(iter(frames[:90]), FPS, [str(tmp_path / "a.png"), ROIS[0]])
    by_mask, by_rect = result.regions
    assert by_mask.region.name == "mask:a"
    np.testing.assert_allclose(by_mask.series, by_rect.series, atol=1e-4)


def test_write_report(stabilised, tmp_path):
    video = tmp_path / "magnified.mp4"
    video.write_bytes(b"")
    paths = write_report(stabilised, tmp_path / "report", video=video)
    data = json.loads(paths["json"].read_text())
    assert data["spectrum"]["resolution_hz"] == pytest.approx(FPS / FRAMES)
    assert data["estimator"]["name"] == "phase"
    assert data["regions"][0]["peaks"][0]["frequency_hz"] == pytest.approx(1.2, abs=0.125)
    assert data["stabilization"]["model"] == "translation"
    assert len(paths["series"].read_text().splitlines()) == FRAMES + 1
    assert "camera_x" in paths["series"].read_text().splitlines()[0]
    for kind in ("displacement", "spectrum", "map"):
        assert paths[kind].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths["html"].read_text()
    assert '<video controls loop muted src="../magnified.mp4"' in page
    assert page.count("data:image/png;base64,") == 3
    assert np.load(paths["map_npy"]).shape == stabilised.amplitude_map.shape


def test_progress_bar(capsys):
    clip = SyntheticClip(width=64, height=48, frames=12)
    analyze(clip, FPS, progress=True)
    assert "12/12" in capsys.readouterr().err
