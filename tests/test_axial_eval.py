"""Axial-MM's evaluation set and sweep protocol: the importer on a tiny fake set in the original
layout (folder and zip), its metadata and alphas, layout errors; the axial protocol's pad, crop,
float scoring and alphas against Oh's; SSIM as pytorch_msssim computes it, by hand."""

from __future__ import annotations

import json
import math
import zipfile

import cv2
import numpy as np
import pytest
import torch

from motionmag.errors import MotionmagError
from motionmag.evaluate.metrics import ssim
from motionmag.evaluate.sweep import evaluate_sweep, score_sample
from motionmag.methods import get_magnifier
from motionmag.methods.base import Magnifier
from motionmag.synth.axial_eval import (AXIAL_SUBPIXEL_MOTIONS, AXIAL_SWEEPS, axial_alpha, axial_levels,
                                        import_axial_eval)
from motionmag.synth.samples import SyntheticSet, write_synthetic_set

SIZE = 32
ROUNDED_ALPHAS = [10 / m for m in AXIAL_SUBPIXEL_MOTIONS]


def texture(rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """A smooth random RGB texture, uint8."""
    x = cv2.GaussianBlur(rng.uniform(0, 255, (size, size, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip((x - x.mean()) * 4 + 128, 0, 255).astype(np.uint8)


def write_png(path, frame: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def fake_set(root, per_mode: int = 1, seed: int = 0, modes: dict | None = None):
    """Axial's layout: <root>/subpixel/mode00-14, <root>/noise005/mode00-20, each with
    NNNNNN{A,B,Y}.png; B is A with noise, Y is A shifted by 2 px. Returns the frames by path."""
    rng = np.random.default_rng(seed)
    frames = {}
    for kind, (folder, count) in AXIAL_SWEEPS.items():
        for k in range((modes or {}).get(kind, count)):
            for i in range(per_mode):
                a = texture(rng)
                b = np.clip(a + rng.normal(0, 3, a.shape), 0, 255).astype(np.uint8)
                y = np.roll(a, 2, axis=1)
                for name, frame in zip("ABY", (a, b, y)):
                    rel = f"{folder}/mode{k:02d}/{i:06d}{name}.png"
                    write_png(root / rel, frame)
                    frames[rel] = frame
    return frames


def zip_folder(folder, zip_path, prefix: str = "") -> None:
    with zipfile.ZipFile(zip_path, "w") as zf:
        for path in sorted(folder.rglob("*.png")):
            zf.write(path, prefix + path.relative_to(folder).as_posix())


@pytest.fixture(scope="module")
def axial_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("axial")
    frames = fake_set(folder / "data", per_mode=2)
    assert import_axial_eval(folder / "data", folder / "axial.h5", samples_per_mode=1) == 36
    return SyntheticSet(folder / "axial.h5"), frames


# --- the importer ---------------------------------------------------------------------------------

def test_import_round_trip_metadata_and_rounded_alphas(axial_set):
    samples, frames = axial_set
    assert len(samples) == 15 + 21
    metas = [samples.meta(i) for i in range(len(samples))]
    assert [m["sweep"] for m in metas] == ["subpixel"] * 15 + ["noise"] * 21
    assert [m["level_index"] for m in metas] == list(range(15)) + list(range(21))
    assert [m["level"] for m in metas[:15]] == pytest.approx(np.geomspace(0.04, 1, 15))
    assert [m["level"] for m in metas[15:]] == pytest.approx([0.01 * 10 ** (k / 5) for k in range(21)])
    assert [m["motion"] for m in metas[15:]] == [0.05] * 21
    alphas = [samples[i][1] for i in range(len(samples))]
    assert alphas[:15] == pytest.approx(ROUNDED_ALPHAS, rel=1e-6) and alphas[15:] == [200.0] * 21
    assert alphas[3] == pytest.approx(10 / 0.079, rel=1e-6) and alphas[5] == pytest.approx(10 / 0.13, rel=1e-6)
    # samples_per_mode=1: the first by sorted name; frames round-trip losslessly
    assert metas[4]["source"] == "subpixel/mode04/000000A.png"
    assert metas[20]["files"] == [f"noise005/mode05/000000{x}.png" for x in "ABY"]
    for i in (0, 20):
        stack, _ = samples[i]
        a, b, y = (frames[name] for name in metas[i]["files"])
        for got, want in zip(stack, (a, b, b, y)):  # frame_a, frame_b, frame_c = B, amplified = Y
            np.testing.assert_array_equal(got, want)


def test_import_reads_the_zip_in_place_and_takes_every_sample(tmp_path):
    fake_set(tmp_path / "data", per_mode=2, seed=3)
    zip_folder(tmp_path / "data", tmp_path / "generic_evaluation_data.zip", prefix="generic_evaluation_data/")
    n = import_axial_eval(tmp_path / "generic_evaluation_data.zip", tmp_path / "zip.h5", sweeps=["noise"],
                          encoding="png")
    assert n == 21 * 2
    from_folder = tmp_path / "folder.h5"
    import_axial_eval(tmp_path / "data", from_folder, sweeps="noise", encoding="png")
    zipped, folder = SyntheticSet(tmp_path / "zip.h5"), SyntheticSet(from_folder)
    for i in (0, 1, 41):
        np.testing.assert_array_equal(zipped[i][0], folder[i][0])
        assert zipped.meta(i) == folder.meta(i)
    assert [zipped.meta(i)["index"] for i in range(4)] == [0, 1, 0, 1]
    import h5py

    with h5py.File(tmp_path / "zip.h5") as f:
        assert json.loads(f.attrs["alphas"]) == {"noise": [200.0] * 21}
        assert json.loads(f.attrs["root"]) == "generic_evaluation_data/"


def test_import_layout_errors(tmp_path):
    data = tmp_path / "data"
    fake_set(data, modes={"subpixel": 15, "noise": 20})  # noise005/mode20 missing
    with pytest.raises(MotionmagError, match="noise005/mode20 is missing"):
        import_axial_eval(data, tmp_path / "x.h5")
    assert import_axial_eval(data, tmp_path / "sub.h5", sweeps=["subpixel"]) == 15  # only what is asked for
    (data / "subpixel" / "mode03" / "000000Y.png").unlink()
    with pytest.raises(MotionmagError, match=r"subpixel/mode03: unequal counts of frames \(1 \*A.png, 1 \*B.png, 0 \*Y.png\)"):
        import_axial_eval(data, tmp_path / "x.h5", sweeps=["subpixel"])
    (data / "subpixel" / "mode03" / "000000Y.png").write_bytes(b"not a png")
    with pytest.raises(MotionmagError, match="000000Y.png: unreadable PNG"):
        import_axial_eval(data, tmp_path / "x.h5", sweeps=["subpixel"])
    with pytest.raises(MotionmagError, match="fewer than the 2 asked for"):
        import_axial_eval(data, tmp_path / "x.h5", sweeps=["subpixel"], samples_per_mode=2)
    with pytest.raises(MotionmagError, match="no Axial-MM evaluation set"):
        import_axial_eval(tmp_path / "data" / "subpixel", tmp_path / "x.h5")
    with pytest.raises(MotionmagError, match="no such folder or zip"):
        import_axial_eval(tmp_path / "absent.zip", tmp_path / "x.h5")
    (tmp_path / "bad.zip").write_bytes(b"PK but not really")
    with pytest.raises(MotionmagError, match="not a readable zip"):
        import_axial_eval(tmp_path / "bad.zip", tmp_path / "x.h5")
    with pytest.raises(MotionmagError, match="sweeps subpixel and noise, not 'blur'"):
        import_axial_eval(data, tmp_path / "x.h5", sweeps=["blur"])
    assert not (tmp_path / "x.h5").exists()  # nothing half-written


def test_import_refuses_frames_of_different_sizes(tmp_path):
    data = tmp_path / "data"
    fake_set(data, modes={"subpixel": 15, "noise": 0})
    write_png(data / "subpixel" / "mode07" / "000000Y.png", np.zeros((SIZE, SIZE + 4, 3), np.uint8))
    with pytest.raises(MotionmagError, match="differ in size"):
        import_axial_eval(data, tmp_path / "x.h5", sweeps=["subpixel"])


def test_axial_alpha_is_the_scripts_rounded_list():
    assert [axial_alpha("subpixel", float(level)) for level in axial_levels("subpixel")] == pytest.approx(ROUNDED_ALPHAS)
    exact = [10 / level for level in axial_levels("subpixel")]
    assert max(abs(r / e - 1) for r, e in zip(ROUNDED_ALPHAS, exact)) == pytest.approx(0.029, abs=0.001)
    assert axial_alpha("noise", 3.98, alpha=200.0) == 200.0
    with pytest.raises(MotionmagError, match="none of generic_eval.py's"):
        axial_alpha("subpixel", 0.07)
    with pytest.raises(MotionmagError, match="does not magnify to 10 px"):
        axial_alpha("subpixel", 0.1, alpha=40.0)  # a sweep magnified to 4 px
    with pytest.raises(MotionmagError, match="does not magnify to 10 px"):
        axial_alpha("noise", 1.0, alpha=80.0)


# --- the axial protocol ---------------------------------------------------------------------------

class Stub(Magnifier):
    """Returns frame B as it is, plus ``offset`` (on [0, 1]); records what it was given."""

    name = "stub"

    def __init__(self, offset: float = 0.0):
        super().__init__("cpu")
        self.offset, self.seen = offset, []

    def _magnify_tensors(self, frames, alpha, mask=None):
        for x in frames:
            self.seen.append(x.clone())
            yield x, x + self.offset


def by_hand_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """pytorch_msssim.ssim(size_average=True) written out: per channel, the 11-tap Gaussian
    (sigma 1.5) window at every position where it fits whole (valid region), K = (0.01, 0.03),
    the map's mean, then the mean over channels. a, b: (H, W, C) float."""
    t = np.arange(11) - 5
    g = np.exp(-(t**2) / (2 * 1.5**2))
    w = np.outer(g, g) / g.sum() ** 2
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    h, wd, channels = a.shape
    per_channel = []
    for c in range(channels):
        values = []
        for i in range(h - 10):
            for j in range(wd - 10):
                x, y = a[i : i + 11, j : j + 11, c], b[i : i + 11, j : j + 11, c]
                mx, my = (w * x).sum(), (w * y).sum()
                vx, vy, cxy = (w * x * x).sum() - mx**2, (w * y * y).sum() - my**2, (w * x * y).sum() - mx * my
                values.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
        per_channel.append(np.mean(values))
    return float(np.mean(per_channel))


def as_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(x, np.float64)).permute(2, 0, 1)[None]


def test_ssim_is_pytorch_msssims_on_0_255():
    # constant frames: only the luminance term, (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1)
    a, b = np.full((16, 16, 3), 100.0), np.full((16, 16, 3), 150.0)
    c1 = (0.01 * 255) ** 2
    assert ssim(as_tensor(a), as_tensor(b), data_range=255.0).item() == pytest.approx(
        (2 * 100 * 150 + c1) / (100**2 + 150**2 + c1), rel=1e-6)
    # textures, a 13x14 frame: a 3x4 valid region, checked window by window
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 255, (13, 14, 3))
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    expected = by_hand_ssim(a, b)
    assert ssim(as_tensor(a), as_tensor(b), data_range=255.0).item() == pytest.approx(expected, abs=1e-6)
    assert ssim(as_tensor(a / 255), as_tensor(b / 255)).item() == pytest.approx(expected, abs=1e-6)  # scale-free


def test_axial_protocol_pads_crops_and_scores_float(axial_set):
    samples, _ = axial_set
    frames, alpha = samples[2]
    a, b, _, truth = frames
    stub = Stub()
    scores = score_sample(frames, alpha, stub, border=8, protocol="axial")
    seen_a, seen_b = stub.seen
    assert seen_b.shape[-2:] == (SIZE + 10, SIZE + 10)  # padded by 5 on every side
    assert (seen_b[..., :5, :] == 0).all() and (seen_b[..., :, -5:] == 0).all()  # with black
    np.testing.assert_array_equal(seen_b[0, :, 5:-5, 5:-5].permute(1, 2, 0).numpy(), b.astype(np.float32) / 255)
    # the output cropped 8 px is B cropped 3 px: SSIM(out, Y) = SSIM(B, Y) on that region
    inner = (slice(3, -3), slice(3, -3))
    expected = by_hand_ssim(b[inner].astype(float), truth[inner].astype(float))
    assert scores["ssim"] == pytest.approx(expected, abs=1e-6) and scores["input_ssim"] == pytest.approx(expected, abs=1e-6)
    oh = score_sample(frames, alpha, Stub(), border=8, protocol="oh")  # Oh's: 8 px inside the frame
    assert oh["ssim"] == pytest.approx(by_hand_ssim(b[8:-8, 8:-8].astype(float), truth[8:-8, 8:-8].astype(float)), abs=1e-6)
    assert oh["ssim"] != pytest.approx(scores["ssim"], abs=1e-4)
    # a change of 0.3 grey levels: lost to Oh's rounding, kept by the float scoring
    shifted = score_sample(frames, alpha, Stub(0.3 / 255), border=8, protocol="axial")
    rounded = score_sample(frames, alpha, Stub(0.3 / 255), border=8, protocol="oh")
    assert rounded["ssim"] == oh["ssim"] and rounded["psnr"] == oh["psnr"]
    assert shifted["ssim"] != scores["ssim"] and shifted["psnr"] != scores["psnr"]
    assert shifted["input_ssim"] == scores["input_ssim"]


def test_axial_and_oh_protocols_with_a_classical_method(axial_set):
    samples, _ = axial_set
    linear = get_magnifier("linear", mode="static")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 72 tiny frames: threads only contend on a shared 2-core machine
    try:
        axial = evaluate_sweep(samples, linear, protocol="axial")
        oh = evaluate_sweep(samples, linear, protocol="oh")
    finally:
        torch.set_num_threads(threads)
    for table in (axial, oh):
        assert list(table["sweep_kind"]) == ["subpixel"] * 15 + ["noise"] * 21
        assert list(table["alpha"]) == pytest.approx(ROUNDED_ALPHAS + [200.0] * 21, rel=1e-6)
        assert (table["samples"] == 1).all() and table["ssim"].between(-1, 1).all()
    assert not np.allclose(axial["ssim"], oh["ssim"]) and not np.allclose(axial["input_ssim"], oh["input_ssim"])
    # the axial scores are the padded, float, cropped ones
    frames, alpha = samples[0]
    assert axial["ssim"][0] == pytest.approx(score_sample(frames, alpha, linear, protocol="axial")["ssim"])


def test_axial_protocol_uses_the_rounded_alphas_on_an_exact_sweep(tmp_path):
    rng = np.random.default_rng(2)
    levels = axial_levels("subpixel")

    def sweep(magnified: float):
        for k in (3, 5):
            a = texture(rng)
            frames = dict(frame_a=a, frame_b=a, frame_c=a, amplified=a)
            yield frames, magnified / levels[k], dict(sweep="subpixel", level=float(levels[k]), level_index=k)

    write_synthetic_set(tmp_path / "exact.h5", sweep(10.0))
    samples = SyntheticSet(tmp_path / "exact.h5")
    oh = evaluate_sweep(samples, Stub(), protocol="oh")
    axial = evaluate_sweep(samples, Stub(), protocol="axial")
    assert list(oh["alpha"]) == pytest.approx([10 / levels[3], 10 / levels[5]], rel=1e-6)
    assert list(axial["alpha"]) == pytest.approx([10 / 0.079, 10 / 0.13], rel=1e-6)
    write_synthetic_set(tmp_path / "four.h5", sweep(4.0))
    with pytest.raises(MotionmagError, match="does not magnify to 10 px"):
        evaluate_sweep(SyntheticSet(tmp_path / "four.h5"), Stub(), protocol="axial")
    with pytest.raises(MotionmagError, match="protocol must be one of oh, axial"):
        evaluate_sweep(samples, Stub(), protocol="flowmag")
    with pytest.raises(MotionmagError, match="crops at least its 5 px pad"):
        evaluate_sweep(samples, Stub(), border=4, protocol="axial")
    assert math.isclose(evaluate_sweep(samples, Stub(), border=5, protocol="axial")["ssim"][0], 1.0, rel_tol=1e-9)
