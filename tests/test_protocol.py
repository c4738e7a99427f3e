"""The two evaluation protocols of pair benchmarks (config ``evaluation.protocol``): ``paper``
reproduces FlowMag's released eval.py, ``corrected`` is the repaired one. Each difference is pinned
on a hand-computed case: the flow network's BatchNorm, float versus rounded magnified frames,
torchvision 0.8.1's Resize + CenterCrop, float32 magnification and the spread over pairs."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from motionmag.data.pairs import PairSet, write_pair_set
from motionmag.errors import MotionmagError
from motionmag.evaluate.metrics import summarize
from motionmag.evaluate.pairs import (
    benchmark_pairs,
    center_crop,
    center_crop_offsets_tv081,
    evaluate_pairs,
    magnify_pairs,
    paper_center_crop,
    protocol_settings,
    resize_short_side_tv081,
)
from motionmag.flow import FlowModel, get_flow_model
from motionmag.methods.base import Magnifier


class BrightnessFlow:
    """A stand-in flow model: the mean brightness change, on both components (hand-computable)."""

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d = (b - a).mean(dim=1, keepdim=True)
        return torch.cat([d, d], dim=1)


class Scale(Magnifier):
    """A stand-in method: frame t becomes frame 0 + alpha * (frame t - frame 0), unrounded."""

    name = "scale"

    def __init__(self):
        super().__init__("cpu")
        self.amp = True  # as the learned methods: read at run time
        self.amp_seen: list[bool] = []

    def _magnify_tensors(self, frames, alpha, mask=None):
        first = None
        for x in frames:
            self.amp_seen.append(self.amp)
            first = x if first is None else first
            yield x, first + alpha * (x - first)


def flat(value: int, h: int = 8, w: int = 10) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


# --- 1. the flow network's BatchNorm: batch statistics, running statistics untouched -------------

def test_paper_runs_raft_batch_norm_on_batch_statistics_without_touching_its_buffers():
    """eval.py never calls .eval() on its RAFT: the context encoder's BatchNorm normalises by the
    statistics of each call's own batch (I0 alone, batch 1), as in train mode."""
    torch.manual_seed(0)
    model = get_flow_model("raft-things", pretrained=False, iters=2)
    x0, x1 = torch.rand(1, 3, 128, 128), torch.rand(1, 3, 128, 128)
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    assert any(k.endswith("running_mean") for k in buffers)  # RAFT large has BatchNorm (context encoder)
    with torch.no_grad():
        eval_flow = model(x0, x1)
        model.batch_norm_batch_stats = True
        paper_flow = model(x0, x1)
        model.batch_norm_batch_stats = False
        again = model(x0, x1)
        reference = copy.deepcopy(model.net).train()  # the plain network in train mode
        train_flow = reference(2 * x0 - 1, 2 * x1 - 1, num_flow_updates=2)[-1]
    torch.testing.assert_close(paper_flow, train_flow, rtol=1e-4, atol=1e-4)
    assert (paper_flow - eval_flow).abs().max() > 1e-3  # random weights: running stats 0/1 differ
    torch.testing.assert_close(again, eval_flow)  # nothing leaked into the next call
    for key, value in model.state_dict().items():  # running mean, variance and batch count as they were
        assert torch.equal(value, buffers[key]), key
    assert not any(m.training for m in model.modules())


class NormFlow(FlowModel):
    """A flow model whose "flow" is a BatchNorm of the brightness change: batch statistics make it
    zero-mean per call; running statistics (mean 0, var 1) leave it as it is."""

    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(1, affine=False)

    def estimate(self, img0, img1):
        d = self.norm((img1 - img0).mean(dim=1, keepdim=True))
        return torch.cat([d, d], dim=1)


def test_evaluate_pairs_turns_batch_statistics_on_only_for_the_paper_protocol(tmp_path):
    i0 = np.zeros((8, 10, 3), np.uint8)
    i1 = i0.copy()
    i1[:, 5:] = 51  # half the frame brightens by 0.2
    write_pair_set(tmp_path / "pairs.h5", [(i0, i1, "a")])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "corrected.h5", magnify_pairs(pairs, Scale(), 1.0))
    write_pair_set(tmp_path / "paper.h5", magnify_pairs(pairs, Scale(), 1.0, protocol="paper"), encoding="npy")
    flow = NormFlow().eval()
    corrected = evaluate_pairs(pairs, PairSet(tmp_path / "corrected.h5"), 2.0, flow, crop=None)
    paper = evaluate_pairs(pairs, PairSet(tmp_path / "paper.h5"), 2.0, flow, crop=None, protocol="paper")
    # alpha 1 output scored at alpha 2: motion error = mean |f| with f the normalised change
    d = np.where(np.arange(10) >= 5, 0.2, 0.0)
    running = np.abs(d / math.sqrt(1 + 1e-5)).mean()  # eval mode: (d - 0) / sqrt(1 + eps)
    batch = np.abs((d - d.mean()) / math.sqrt(d.var() + 1e-5)).mean()  # train mode: batch statistics
    assert corrected["motion_error"] == pytest.approx(running, rel=1e-4)
    assert paper["motion_error"] == pytest.approx(batch, rel=1e-4)
    assert flow.batch_norm_batch_stats is False and torch.equal(flow.norm.running_mean, torch.zeros(1))
    assert int(flow.norm.num_batches_tracked) == 0


# --- 2. float magnified frames, not rounded ones ---------------------------------------------------

def test_paper_scores_the_float_output_where_rounding_changes_the_score(tmp_path):
    """I1 = I0 + 1/255 magnified by 2.5 is I0 + 2.5/255 exactly (motion error 0); rounded to uint8
    it becomes I0 + 2/255 (half to even), and the corrected protocol scores |2 - 2.5| / 255."""
    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(101), "a")])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "paper.h5", magnify_pairs(pairs, Scale(), 2.5, protocol="paper"), encoding="npy")
    write_pair_set(tmp_path / "corrected.h5", magnify_pairs(pairs, Scale(), 2.5))
    stored = PairSet(tmp_path / "paper.h5")[0][1]
    assert stored.dtype == np.float32
    np.testing.assert_allclose(stored, np.float32(100 / 255) + 2.5 * (np.float32(101 / 255) - np.float32(100 / 255)))
    assert PairSet(tmp_path / "corrected.h5")[0][1].max() == 102
    paper = evaluate_pairs(pairs, PairSet(tmp_path / "paper.h5"), 2.5, BrightnessFlow(), crop=None, protocol="paper")
    corrected = evaluate_pairs(pairs, PairSet(tmp_path / "corrected.h5"), 2.5, BrightnessFlow(), crop=None)
    assert paper["motion_error"] == pytest.approx(0.0, abs=1e-6)
    assert corrected["motion_error"] == pytest.approx(0.5 / 255, rel=1e-4)


def test_a_magnified_file_of_the_other_protocol_is_refused(tmp_path):
    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(101), "a")])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "corrected.h5", magnify_pairs(pairs, Scale(), 2.0))
    write_pair_set(tmp_path / "paper.h5", magnify_pairs(pairs, Scale(), 2.0, protocol="paper"), encoding="npy")
    with pytest.raises(MotionmagError, match="uint8 magnified frames, not those of the paper protocol"):
        evaluate_pairs(pairs, PairSet(tmp_path / "corrected.h5"), 2.0, BrightnessFlow(), crop=None, protocol="paper")
    with pytest.raises(MotionmagError, match="float32 magnified frames, not those of the corrected protocol"):
        evaluate_pairs(pairs, PairSet(tmp_path / "paper.h5"), 2.0, BrightnessFlow(), crop=None)
    with pytest.raises(MotionmagError, match="unknown evaluation protocol"):
        evaluate_pairs(pairs, PairSet(tmp_path / "paper.h5"), 2.0, BrightnessFlow(), crop=None, protocol="exact")
    with pytest.raises(MotionmagError, match="float32 frame for encoding png"):
        write_pair_set(tmp_path / "bad.h5", magnify_pairs(pairs, Scale(), 2.0, protocol="paper"))


# --- 3. torchvision 0.8.1's Resize + CenterCrop on float tensors ---------------------------------

def ramp(h: int, w: int) -> np.ndarray:
    """f(r, c) = c + 10 r grey levels: linear, so bilinear interpolation is exact at any point."""
    values = np.arange(w)[None, :] + 10 * np.arange(h)[:, None]
    return np.repeat(values[:, :, None], 3, axis=2).astype(np.uint8)


def test_paper_crop_is_torchvision_081_resize_then_center_crop_by_hand():
    """An 8x19 ramp to 4: short side 4, long side int(4 * 19 / 8) = int(9.5) = 9 (OpenCV's path
    rounds to 10); bilinear, align_corners=False: output (i, j) samples the input at
    y = 2 i + 0.5, x = (j + 0.5) 19/9 - 0.5; then the crop's left margin 9 - 4 = 5 is placed at
    int((5 + 1) * 0.5) = 3 (a floor would give 2)."""
    out = paper_center_crop(ramp(8, 19), 4)
    assert out.shape == (4, 4, 3) and out.dtype == np.float32
    i, j = np.meshgrid(np.arange(4), np.arange(4) + 3, indexing="ij")
    y, x = 2 * i + 0.5, (j + 0.5) * 19 / 9 - 0.5
    expected = (x + 10 * y) / 255
    np.testing.assert_allclose(out[..., 0], expected, atol=1e-5)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    # the same as F.interpolate straight (the 4x9 resize) and cutting columns 3-6
    full = F.interpolate(torch.from_numpy(ramp(8, 19)).permute(2, 0, 1)[None].float() / 255, size=[4, 9],
                         mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(out, full[0, :, :, 3:7].permute(1, 2, 0).numpy())


def test_paper_resize_truncates_the_long_side_and_skips_a_frame_already_at_size():
    x = torch.rand(3, 6, 10)
    assert resize_short_side_tv081(x, 4).shape == (3, 4, 6)  # int(4 * 10 / 6) = int(6.67) = 6
    assert resize_short_side_tv081(torch.rand(3, 10, 6), 4).shape == (3, 6, 4)
    assert resize_short_side_tv081(torch.rand(3, 5, 5), 4).shape == (3, 4, 4)
    same = torch.rand(3, 4, 9)
    assert resize_short_side_tv081(same, 4) is same  # short side already 4: not interpolated
    # a frame at size: only the crop, a 5-pixel margin placed at 3 (corrected: floor, at 2)
    frame = ramp(4, 9)
    np.testing.assert_array_equal(paper_center_crop(frame, 4), frame[:, 3:7].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(center_crop(frame, 4), frame[:, 2:6])


def test_torchvision_081_center_crop_offsets():
    """int((margin + 1) * 0.5): half-pixel margins round up; Python's round() would take 2, 2, 4."""
    assert [center_crop_offsets_tv081(4, 4 + m, 4)[1] for m in range(8)] == [0, 1, 1, 2, 2, 3, 3, 4]
    assert [round(m / 2) for m in (3, 5, 7)] == [2, 2, 4] and [(m + 1) // 2 for m in (3, 5, 7)] == [2, 3, 4]
    assert center_crop_offsets_tv081(512, 683, 512) == (0, 86)  # a 4:3 frame at 512: margin 171


def test_benchmark_pairs_follow_the_protocol(tmp_path):
    write_pair_set(tmp_path / "pairs.h5", [(ramp(8, 19), ramp(8, 19), "a")])
    pairs = PairSet(tmp_path / "pairs.h5")
    (a, _, _), = benchmark_pairs(pairs, 4, None)
    (pa, _, _), = benchmark_pairs(pairs, 4, None, protocol="paper")
    assert a.dtype == np.uint8 and pa.dtype == np.float32
    np.testing.assert_array_equal(pa, paper_center_crop(ramp(8, 19), 4))


# --- 4. float32 magnification ----------------------------------------------------------------------

def test_paper_magnifies_in_float32():
    settings = {"checkpoint": "model.pt", "amp": True, "batch_size": 2}
    assert protocol_settings("flowmag-raft", settings, "paper") == {"checkpoint": "model.pt", "amp": False, "batch_size": 2}
    assert protocol_settings("oh2018", {"checkpoint": "m.pt"}, "paper")["amp"] is False
    assert protocol_settings("flowmag-raft", settings, "corrected") == settings  # bf16 on CUDA stays allowed
    assert "amp" not in protocol_settings("linear", {"mode": "static"}, "paper")  # nothing to turn off
    assert settings["amp"] is True  # not changed in place


def test_magnify_pair_set_passes_amp_off_and_magnify_pairs_runs_without_it(tmp_path, monkeypatch):
    import motionmag.methods
    from motionmag.workflow.magnify import magnify_pairs as magnify_pair_set

    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(101), "a")])
    built = {}

    def fake_get_magnifier(name, **settings):
        built.update(settings)
        return Scale()

    monkeypatch.setattr(motionmag.methods, "get_magnifier", fake_get_magnifier)
    magnify_pair_set(tmp_path / "pairs.h5", "flowmag-raft", {"checkpoint": "m.pt"}, [2.0], [tmp_path / "out.h5"],
                     crop=None, protocol="paper")
    assert built["amp"] is False and built["checkpoint"] == "m.pt"
    assert PairSet(tmp_path / "out.h5")[0][1].dtype == np.float32
    built.clear()
    magnify_pair_set(tmp_path / "pairs.h5", "flowmag-raft", {"checkpoint": "m.pt"}, [2.0], [tmp_path / "out8.h5"], crop=None)
    assert "amp" not in built and PairSet(tmp_path / "out8.h5")[0][1].dtype == np.uint8
    # a magnifier built with amp on runs without it under the paper protocol, and gets it back
    scale = Scale()
    list(magnify_pairs(PairSet(tmp_path / "pairs.h5"), scale, 2.0, protocol="paper"))
    assert scale.amp_seen == [False, False] and scale.amp is True
    list(magnify_pairs(PairSet(tmp_path / "pairs.h5"), scale, 2.0))
    assert scale.amp_seen[2:] == [True, True]


# --- 5. the spread over pairs ------------------------------------------------------------------------

def test_summarize_paper_population_std_and_nan_propagation():
    values = [1.0, 2.0, 4.0]  # mean 7/3, squared deviations 16/9 + 1/9 + 25/9 = 42/9
    mean, std, sem = summarize(values, ddof=0, skip_nan=False)
    assert mean == pytest.approx(7 / 3) and std == pytest.approx(math.sqrt(42 / 27)) and sem == pytest.approx(math.sqrt(42 / 18) / math.sqrt(3))  # AverageMeter: se from the sample std
    mean, std, sem = summarize(values)
    assert std == pytest.approx(math.sqrt(42 / 18)) and sem == pytest.approx(math.sqrt(42 / 18) / math.sqrt(3))
    with_nan = [1.0, math.nan, 3.0]
    assert summarize(with_nan) == pytest.approx((2.0, math.sqrt(2.0), 1.0))  # corrected: NaN dropped
    assert all(math.isnan(v) for v in summarize(with_nan, ddof=0, skip_nan=False))  # paper: NaN everywhere
    mean, std, sem = summarize([5.0], ddof=0, skip_nan=False)
    assert (mean, std) == (5.0, 0.0) and math.isnan(sem)


def test_evaluate_pairs_paper_spread_is_ddof_0(tmp_path):
    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(100 + d), str(d)) for d in (10, 20, 30)])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "paper.h5", magnify_pairs(pairs, Scale(), 1.0, protocol="paper"), encoding="npy")
    got = evaluate_pairs(pairs, PairSet(tmp_path / "paper.h5"), 3.0, BrightnessFlow(), crop=None, protocol="paper")
    errors = np.array([2 * d / 255 for d in (10, 20, 30)])  # |fs - 3 fs| = 2 fs
    assert got["motion_error"] == pytest.approx(errors.mean(), rel=1e-4)
    assert got["motion_error_std"] == pytest.approx(errors.std(ddof=0), rel=1e-3)
    assert got["motion_error_sem"] == pytest.approx(errors.std(ddof=1) / math.sqrt(3), rel=1e-3)


def test_evaluate_pairs_paper_propagates_a_nan_pair(tmp_path):
    """A pair whose flow is NaN (here: the stand-in flow of a pair with no change, 0 / 0) makes
    eval.py's mean NaN; the corrected protocol averages the other pairs."""

    class RatioFlow:
        def __call__(self, a, b):
            d = (b - a).mean(dim=1, keepdim=True)
            d = d / d  # 1 where the frames differ, NaN (0 / 0) where they do not
            return torch.cat([d, d], dim=1)

    write_pair_set(tmp_path / "pairs.h5", [(flat(100), flat(110), "a"), (flat(100), flat(100), "b")])
    pairs = PairSet(tmp_path / "pairs.h5")
    write_pair_set(tmp_path / "paper.h5", magnify_pairs(pairs, Scale(), 1.0, protocol="paper"), encoding="npy")
    write_pair_set(tmp_path / "corrected.h5", magnify_pairs(pairs, Scale(), 1.0))
    paper = evaluate_pairs(pairs, PairSet(tmp_path / "paper.h5"), 2.0, RatioFlow(), crop=None, protocol="paper")
    corrected = evaluate_pairs(pairs, PairSet(tmp_path / "corrected.h5"), 2.0, RatioFlow(), crop=None)
    assert math.isnan(paper["motion_error"]) and math.isnan(paper["motion_error_std"])
    assert corrected["motion_error"] == pytest.approx(1.0) and corrected["pairs"] == 2


# --- provenance ------------------------------------------------------------------------------------

def test_a_pair_cell_records_its_protocol(tmp_path):
    from motionmag.workflow.evaluate import evaluate_pairs as evaluate_pair_cells
    from motionmag.workflow.magnify import magnify_pairs as magnify_pair_set

    rng = np.random.default_rng(0)
    texture = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    write_pair_set(tmp_path / "pairs.h5", [(texture, np.roll(texture, 1, axis=1), "a")])
    rows = {}
    for protocol in ("corrected", "paper"):
        out = tmp_path / f"{protocol}.h5"
        magnify_pair_set(tmp_path / "pairs.h5", "linear", {"mode": "static"}, [2.0], [out], crop=None, protocol=protocol)
        (rows[protocol],) = evaluate_pair_cells("bench", "linear", ["lk"], [2.0], tmp_path / "pairs.h5", [out],
                                                [tmp_path / f"{protocol}.csv"], crop=None,
                                                method_settings={"mode": "static"}, protocol=protocol)
        written = pd.read_csv(tmp_path / f"{protocol}.csv")
        assert written["protocol"].tolist() == [protocol]
    assert rows["paper"]["config_hash"] != rows["corrected"]["config_hash"]
    assert math.isfinite(rows["paper"]["motion_error"])
