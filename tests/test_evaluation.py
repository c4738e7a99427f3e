"""The evaluation stage: pair benchmarks (FlowMag's protocol) on hand-computed flows, Oh's sweeps
against an oracle and an identity magnifier, released zips read in place, and the table layouts."""

from __future__ import annotations

import io
import json
import math
import zipfile

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from motionmag.data.archives import released_pairs
from motionmag.data.pairs import PairSet, write_pair_set
from motionmag.synth.samples import SyntheticSet
from motionmag.errors import MotionmagError
from motionmag.evaluate.pairs import center_crop, evaluate_pairs, magnify_pairs, pair_indices
from motionmag.evaluate.sweep import evaluate_sweep
from motionmag.methods.base import Magnifier
from motionmag.report.tables import sweep_table, table_stems, write_sweep_table, write_tables
from motionmag.synth.generate import write_shard
from motionmag.synth.sources import build_index, write_index


class BrightnessFlow:
    """A stand-in flow model whose "flow" is the mean brightness change, on both components:
    known exactly, so the metrics can be computed by hand."""

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d = (b - a).mean(dim=1, keepdim=True)
        return torch.cat([d, d], dim=1)


class Brighten(Magnifier):
    """A stand-in method: frame t becomes frame 0 + alpha * (frame t - frame 0) + extra."""

    name = "brighten"

    def __init__(self, extra: float = 0.0):
        super().__init__("cpu")
        self.extra = extra

    def _magnify_tensors(self, frames, alpha, mask=None):
        first = None
        for x in frames:
            first = x if first is None else first
            yield x, (first + alpha * (x - first) + (self.extra if x is not first else 0.0)).clamp(0, 1)


def flat(value: int, h: int = 8, w: int = 10) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


# --- pair benchmarks ------------------------------------------------------------------------------

def test_pair_metrics_by_hand(tmp_path):
    """I1 = I0 + 10/255; the method overshoots to I0 + 30/255 at alpha 2 (ideal: 20/255), so with
    fs = 10/255 and fp = 30/255 on both components: motion error = 10/255 and magnification
    error = |3 - 2| (up to the 1e-4 guard)."""
    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(110), "a"), (flat(50), flat(60), "b")])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "out.h5", magnify_pairs(pairs, Brighten(extra=10 / 255), 2.0))
    got = evaluate_pairs(pairs, PairSet(tmp_path / "out.h5"), 2.0, BrightnessFlow())
    fs, fp = 10 / 255, 30 / 255
    assert got["pairs"] == 2
    assert got["motion_error"] == pytest.approx(abs(fp - 2 * fs), abs=1e-6)
    expected_mag = abs(math.hypot(fp, fp) / (math.hypot(fs, fs) + 1e-4) - 2)
    assert got["magnification_error"] == pytest.approx(expected_mag, rel=1e-4)
    assert got["motion_error_std"] == pytest.approx(0.0, abs=1e-6) and got["motion_error_sem"] == pytest.approx(0.0, abs=1e-6)
    # a perfect method scores zero motion error
    write_pair_set(tmp_path / "ideal.h5", magnify_pairs(pairs, Brighten(), 2.0))
    ideal = evaluate_pairs(pairs, PairSet(tmp_path / "ideal.h5"), 2.0, BrightnessFlow())
    assert ideal["motion_error"] == pytest.approx(0.0, abs=1e-6)


def test_pair_alphas_scored_together_as_if_alone(tmp_path):
    """Several magnifications of one benchmark in one pass (fs estimated once per pair) give each
    alpha exactly its result alone."""
    from motionmag.evaluate.pairs import evaluate_pairs_alphas

    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(110), "a"), (flat(50), flat(70), "b")])
    pairs = PairSet(tmp_path / "pairs.h5")
    magnified = {}
    for alpha, extra in ((2.0, 10 / 255), (4.0, 0.0)):
        write_pair_set(tmp_path / f"x{alpha:g}.h5", magnify_pairs(pairs, Brighten(extra=extra), alpha))
        magnified[alpha] = PairSet(tmp_path / f"x{alpha:g}.h5")
    together = evaluate_pairs_alphas(pairs, magnified, BrightnessFlow())
    assert list(together) == [2.0, 4.0]
    for alpha, out in magnified.items():
        assert together[alpha] == evaluate_pairs(pairs, out, alpha, BrightnessFlow())
    assert together[2.0]["motion_error"] > 0.01 and together[4.0]["motion_error"] < 1e-6


def test_pair_errors_spread_over_pairs(tmp_path):
    """std and standard error are over pairs, as FlowMag's eval.py prints them."""
    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(110), "a"), (flat(100), flat(120), "b"), (flat(100), flat(130), "c")])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "out.h5", magnify_pairs(pairs, Brighten(), 1.0))  # alpha 1: output = input
    got = evaluate_pairs(pairs, PairSet(tmp_path / "out.h5"), 3.0, BrightnessFlow())
    errors = np.array([2 * d / 255 for d in (10, 20, 30)])  # |fs - 3 fs| = 2 fs
    assert got["motion_error"] == pytest.approx(errors.mean(), rel=1e-4)
    assert got["motion_error_std"] == pytest.approx(errors.std(ddof=1), rel=1e-3)
    assert got["motion_error_sem"] == pytest.approx(errors.std(ddof=1) / math.sqrt(3), rel=1e-3)


def test_center_crop_resizes_the_short_side_then_cuts_the_middle():
    frame = np.zeros((100, 300, 3), np.uint8)
    frame[:, 100:200] = 255  # the middle third
    out = center_crop(frame, 50)
    assert out.shape == (50, 50, 3)
    assert out[:, 5:45].min() == 255  # the middle is what remains
    assert center_crop(frame, None) is frame
    up = center_crop(np.zeros((20, 30, 3), np.uint8), 40)
    assert up.shape == (40, 40, 3)


def test_a_limited_benchmark_spreads_its_pairs_over_the_file():
    assert pair_indices(10, None) == list(range(10))
    assert pair_indices(10, 3) == [0, 4, 9] or pair_indices(10, 3) == [0, 5, 9]
    assert pair_indices(3, 10) == [0, 1, 2]


def test_a_magnified_file_of_another_length_is_refused(tmp_path):
    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(110), "a"), (flat(50), flat(60), "b")])
    write_pair_set(tmp_path / "out.h5", [(flat(100), flat(110), "a")])
    with pytest.raises(MotionmagError, match="1 magnified pairs for 2"):
        evaluate_pairs(PairSet(tmp_path / "pairs.h5"), PairSet(tmp_path / "out.h5"), 2.0, BrightnessFlow())


# --- released zips --------------------------------------------------------------------------------

def png(frame: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))[1].tobytes()


def flowmag_zip(path, names, listing=True, drop_b=None):
    """A zip laid out like FlowMag's released test split: test/frameA, test/frameB, test_fn.json."""
    with zipfile.ZipFile(path, "w") as zf:
        for k, name in enumerate(names):
            zf.writestr(f"test/frameA/{name}", png(flat(10 * k)))
            if name != drop_b:
                zf.writestr(f"test/frameB/{name}", png(flat(10 * k + 5)))
        if listing:
            zf.writestr("test_fn.json", json.dumps(list(reversed(names))))
        zf.writestr("../evil.png", png(flat(0)))  # a hostile member: never extracted, and not a pair
    return path


def test_released_pairs_follow_the_listing(tmp_path):
    names = ["davis_00001.png", "vimeo_00002.png", "tao_00003.png"]
    triples = list(released_pairs(flowmag_zip(tmp_path / "t.zip", names)))
    assert [t[2] for t in triples] == list(reversed(names))
    a, b, _ = triples[-1]  # davis_00001, k = 0
    assert a.shape == (8, 10, 3) and a.max() == 0 and b.min() == 5
    unlisted = list(released_pairs(flowmag_zip(tmp_path / "u.zip", names, listing=False)))
    assert [t[2] for t in unlisted] == sorted(names)


def test_released_pairs_refuse_broken_archives(tmp_path):
    with pytest.raises(MotionmagError, match="lacks test/frameB/b.png"):
        list(released_pairs(flowmag_zip(tmp_path / "t.zip", ["a.png", "b.png"], drop_b="b.png")))
    (tmp_path / "page.zip").write_bytes(b"<!doctype html><html>quota exceeded</html>")
    with pytest.raises(MotionmagError, match="not a readable zip"):
        list(released_pairs(tmp_path / "page.zip"))
    with zipfile.ZipFile(tmp_path / "listing.zip", "w") as zf:
        zf.writestr("test/frameA/a.png", png(flat(0)))
        zf.writestr("test_fn.json", "{not json")
    with pytest.raises(MotionmagError, match="not a JSON list"):
        list(released_pairs(tmp_path / "listing.zip"))
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(MotionmagError, match="no <split>/frameA/"):
        list(released_pairs(tmp_path / "empty.zip"))


# --- sweeps ---------------------------------------------------------------------------------------

SWEEP_RECIPE = {"name": "sweep", "size": 40, "objects": [1, 2], "object_scale": [0.4, 0.8],
                "alpha": {"range": [1, 10], "law": "uniform"}, "max_motion": 3, "max_magnified": 12}


@pytest.fixture(scope="module")
def subpixel_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    write_index(build_index("demo"), folder / "sources.json")
    settings = dict(recipe=SWEEP_RECIPE, samples=2, seed=5, sweep=dict(kind="subpixel", levels=[0.1, 1.0, 3], magnified=4))
    write_shard(folder / "shard.h5", settings, folder / "sources.json", 0)
    return SyntheticSet(folder / "shard.h5")


class Identity(Magnifier):
    name = "identity"

    def magnify(self, frames, alpha, mask=None):
        return list(frames)

    def _magnify_tensors(self, frames, alpha, mask=None):  # pragma: no cover - magnify is overridden
        yield from ()


class Oracle(Identity):
    """Looks up the ground truth of each input frame B: a perfect method."""

    name = "oracle"

    def __init__(self, samples):
        super().__init__()
        self.truth = {samples[i][0][1].tobytes(): samples[i][0][3] for i in range(len(samples))}

    def magnify(self, frames, alpha, mask=None):
        a, b = frames
        return [a, self.truth[b.tobytes()]]


def test_sweep_rows_per_level_with_the_oracle_perfect_and_the_input_at_baseline(subpixel_set):
    oracle = evaluate_sweep(subpixel_set, Oracle(subpixel_set), border=4)
    assert list(oracle["level"]) == pytest.approx([0.1, math.sqrt(0.1), 1.0])
    assert list(oracle["alpha"]) == pytest.approx([40.0, 4 / math.sqrt(0.1), 4.0])  # magnified motion / input motion
    assert (oracle["samples"] == 2).all()
    assert oracle["ssim"].to_numpy() == pytest.approx(1.0) and oracle["psnr"].to_numpy() == pytest.approx(100.0)
    identity = evaluate_sweep(subpixel_set, Identity(), border=4)
    assert identity["ssim"].to_numpy() == pytest.approx(identity["input_ssim"].to_numpy())
    assert (identity["ssim"] < 1).all() and (identity["ssim_sem"] >= 0).all()


def test_a_training_set_is_not_a_sweep(tmp_path):
    write_index(build_index("demo"), tmp_path / "sources.json")
    write_shard(tmp_path / "train.h5", dict(recipe=SWEEP_RECIPE, samples=1), tmp_path / "sources.json", 0)
    with pytest.raises(MotionmagError, match="not from a sweep"):
        evaluate_sweep(SyntheticSet(tmp_path / "train.h5"), Identity())


# --- tables ---------------------------------------------------------------------------------------

def fixture_cells(pair_bench: str = "test") -> pd.DataFrame:
    rows = []
    for bench, kind in (("clip_a", "clip"), ("clip_b", "clip"), (pair_bench, "pairs")):
        for method in ("linear", "phase"):
            for flow in ("dis", "lk"):
                for alpha in (4.0, 8.0):
                    value = {"clip_a": 1.0, "clip_b": 3.0, pair_bench: 10.0}[bench] + (method == "phase") + 0.1 * (flow == "lk") + alpha / 100
                    row = dict(benchmark=bench, kind=kind, method=method, flow=flow, alpha=alpha,
                               motion_error=value, motion_error_sem=0.01, magnification_error=value / 2,
                               magnification_error_sem=0.02)
                    if kind == "clip":
                        row.update(ssim=0.9, psnr=30.0, amplification_object=alpha * 0.9)
                    rows.append(row)
    return pd.DataFrame(rows)


def test_flowmag_layout_methods_by_flow_models_per_group_metric_and_alpha(tmp_path):
    written = write_tables(fixture_cells(), tmp_path, [4.0, 8.0])
    stems = {str(p.relative_to(tmp_path).with_suffix("")) for p in written}
    assert stems == set(table_stems(["clips", "test"], [4.0, 8.0]))
    assert "test/ssim_x4" not in stems and "clips/ssim_x4" in stems  # no ground truth for pairs
    clips = pd.read_csv(tmp_path / "clips" / "motion_error_x4.csv", index_col=0)
    assert list(clips.index) == ["linear", "phase"] and list(clips.columns) == ["dis", "lk"]
    assert clips.loc["phase", "lk"] == pytest.approx((1 + 3) / 2 + 1 + 0.1 + 0.04)  # mean over clips
    test = pd.read_csv(tmp_path / "test" / "motion_error_x8.csv", index_col=0)
    assert test.loc["linear", "dis"] == pytest.approx(10.08)
    md = (tmp_path / "test" / "motion_error_x8.md").read_text()
    assert "10.0800 ± 0.0100" in md and "rows: methods, columns: evaluation flow models" in md
    assert "±" not in (tmp_path / "clips" / "motion_error_x8.md").read_text().split("\n", 2)[2]
    tex = (tmp_path / "test" / "motion_error_x8.tex").read_text()
    assert r"10.0800 $\pm$ 0.0100" in tex and r"\begin{table}" in tex and "±" not in tex


def test_oh_layout_levels_by_methods_with_the_input_baseline(tmp_path):
    rows = []
    for method, base in (("phase", 0.5), ("oh2018", 0.8)):
        for level in (0.04, 0.2, 1.0):
            rows.append(dict(sweep_kind="subpixel", level=level, alpha=10 / level, samples=3, method=method,
                             ssim=base + level / 10, ssim_sem=0.01, input_ssim=0.3, input_ssim_sem=0.02))
    mean, sem = sweep_table(pd.DataFrame(rows))
    assert list(mean.columns) == ["alpha", "oh2018", "phase", "input"]
    assert list(mean.index) == [0.04, 0.2, 1.0] and mean.index.name == "input motion (px)"
    assert mean.loc[0.2, "oh2018"] == pytest.approx(0.82) and mean.loc[0.04, "alpha"] == pytest.approx(250)
    assert sem.loc[1.0, "input"] == pytest.approx(0.02)
    write_sweep_table(pd.DataFrame(rows), tmp_path / "subpixel" / "ssim")
    md = (tmp_path / "subpixel" / "ssim.md").read_text()
    assert "0.8200 ± 0.0100" in md and "3 scenes per level" in md
    assert pd.read_csv(tmp_path / "subpixel" / "ssim.csv", index_col=0).shape == (3, 4)


def test_tables_never_show_a_missing_value_as_a_number(tmp_path):
    cells = fixture_cells()
    cells.loc[(cells["method"] == "phase") & (cells["flow"] == "lk"), "motion_error"] = np.nan
    write_tables(cells, tmp_path, [4.0])
    md = (tmp_path / "test" / "motion_error_x4.md").read_text()
    assert "–" in md and "nan" not in md.lower()
    buf = io.StringIO((tmp_path / "test" / "motion_error_x4.csv").read_text())
    assert math.isnan(pd.read_csv(buf, index_col=0).loc["phase", "lk"])


def test_latex_survives_underscores_and_fractional_alphas_keep_their_files(tmp_path):
    cells = fixture_cells("flowmag_test")
    cells["alpha"] = cells["alpha"].replace({4.0: 1.5, 8.0: 2.5})
    written = write_tables(cells, tmp_path, [1.5, 2.5])
    assert (tmp_path / "flowmag_test" / "motion_error_x1.5.tex") in written
    assert (tmp_path / "flowmag_test" / "motion_error_x2.5.csv").is_file()
    tex = (tmp_path / "flowmag_test" / "motion_error_x1.5.tex").read_text()
    assert r"flowmag\_test" in tex and "flowmag_test" not in tex.replace(r"\_", "")
    assert r"$\pm$" in tex and "±" not in tex
