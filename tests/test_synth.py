"""The synthetic Oh-style sets: determinism, ground truth checked by an independent flow
estimate, the five subsets, the evaluation sweeps, sources, the Dataset and the command line."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage, optimize

from motionmag.synth.samples import FRAMES, SyntheticSet, write_manifest
from motionmag.errors import MotionmagError
from motionmag.synth.generate import Generator, load_recipe, set_settings, shard_samples, sweep_levels, write_shard
from motionmag.synth.render import SUBSETS, SceneRenderer, dither, subset_cycle
from motionmag.synth.sources import build_index, open_source, write_index

# large enough for a flow estimate, small enough to be quick; motions large enough to measure
FLOW_RECIPE = {
    "name": "flowcheck", "size": 128, "objects": [2, 3], "object_scale": [0.6, 1.0],
    "alpha": {"range": [2, 4], "law": "uniform"}, "max_motion": 3.0, "max_magnified": 12.0,
    "subsets": {"normal": 1, "blurred_background": 0, "background_only": 0, "static": 0, "static_background": 0},
}
SMALL_RECIPE = {"name": "small", "size": 48, "objects": [2, 4], "object_scale": [0.2, 0.5],
                "alpha": {"range": [1, 40], "law": "log-uniform"}, "max_motion": 3, "max_magnified": 12}


def motionmag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motionmag", *args], capture_output=True, text=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def layers(meta: dict) -> list[dict]:
    return [meta["background"], *meta["objects"]]


def displacement(layer: dict) -> np.ndarray:
    return layer["motion_amount"] * np.array([math.cos(layer["motion_dir"]), math.sin(layer["motion_dir"])])


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "sources.json"
    write_index(build_index("demo"), path)
    return path


@pytest.fixture(scope="module")
def small_set(demo_index, tmp_path_factory) -> Path:
    """Ten samples (two of each subset) in two shards, and their manifest."""
    folder = tmp_path_factory.mktemp("small")
    settings = dict(recipe=SMALL_RECIPE, samples=10, shard_size=5, seed=3)
    shards = []
    for k in range(2):
        shards.append(folder / f"shard-{k}.h5")
        assert write_shard(shards[-1], settings, demo_index, k) == 5
    write_manifest(folder / "manifest.json", shards, dict(settings))
    return folder / "manifest.json"


# --- determinism ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_same_seed_gives_byte_identical_shards_in_separate_processes(demo_index, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps(SMALL_RECIPE))  # JSON is YAML
    args = ["synth", "generate", str(recipe), "--index", str(demo_index), "--samples", "9", "--shard-size", "4", "--shard", "1", "-q"]
    first, second = (motionmag(*args, "-o", str(tmp_path / name)) for name in ("one.h5", "two.h5"))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert sha256(tmp_path / "one.h5") == sha256(tmp_path / "two.h5")
    other = motionmag(*args, "--seed", "1", "-o", str(tmp_path / "other.h5"))
    assert other.returncode == 0 and sha256(tmp_path / "other.h5") != sha256(tmp_path / "one.h5")
    # a sample does not depend on how the set is split: sample 5 is shard 1's second
    whole = SyntheticSet(tmp_path / "one.h5")
    assert len(whole) == 4 and whole.meta(1)["index"] == 5
    alone = Generator(SMALL_RECIPE, demo_index, seed=0).sample(5)
    assert np.array_equal(whole[1][0], np.stack([alone[0][name] for name in FRAMES]))
    last = motionmag(*args[:-3], "--shard", "2", "-q", "-o", str(tmp_path / "last.h5"))
    assert last.returncode == 0 and len(SyntheticSet(tmp_path / "last.h5")) == 1  # 9 = 4 + 4 + 1


def test_metadata_is_complete_enough_to_re_render_every_frame(small_set, demo_index):
    samples = SyntheticSet(small_set)
    renderer = SceneRenderer(load_recipe(SMALL_RECIPE), open_source(demo_index))
    for i in (0, 7):
        frames, alpha = samples[i]
        meta = samples.meta(i)
        assert alpha == pytest.approx(meta["alpha"], rel=1e-6)
        again = renderer.render_float(meta)
        for k, name in enumerate(FRAMES):  # the dither moves a value by less than one level
            assert np.abs(frames[k] / 255.0 - again[name]).max() <= 1.0 / 255 + 1e-6


# --- ground truth, checked by an independent flow estimate ------------------------------------------

def fit_translation(a: np.ndarray, b: np.ndarray, region: np.ndarray, search: int) -> np.ndarray:
    """An independent estimate of the translation d with b(x) = a(x - d) on ``region``: the best
    whole-pixel shift within +-search, refined by a robust least-squares fit of spline shifts
    (all three channels)."""
    ys, xs = np.nonzero(region)
    pad = search + 4  # the window holds everything the region can be shifted from
    y0, x0 = max(0, ys.min() - pad), max(0, xs.min() - pad)
    window = np.s_[y0 : ys.max() + pad + 1, x0 : xs.max() + pad + 1]
    a, b, region = a[window].astype(np.float64) / 255, b[window].astype(np.float64) / 255, region[window]

    def residual(shifted):
        return np.sqrt((shifted - b)[region] ** 2 + 1e-4).mean()

    def cost(d):
        return residual(ndimage.shift(a, (d[1], d[0], 0), order=3, mode="mirror"))

    grid = [(dx, dy) for dx in range(-search, search + 1) for dy in range(-search, search + 1)]
    whole = np.array(min(grid, key=lambda d: residual(np.roll(a, (d[1], d[0]), axis=(0, 1)))), float)
    simplex = [whole, whole + (0.5, 0.0), whole + (0.0, 0.5)]
    return optimize.minimize(cost, whole, method="Nelder-Mead", options=dict(initial_simplex=simplex, xatol=1e-4, fatol=1e-10)).x


def well_posed(image: np.ndarray, region: np.ndarray) -> bool:
    """Texture in two directions (no aperture problem): the region's structure tensor, summed
    over channels, is well conditioned and strong enough."""
    image = ndimage.gaussian_filter(image.astype(np.float64), (1, 1, 0))
    gy, gx = np.gradient(image, axis=(0, 1))
    tensor = np.array([[(gx * gx).sum(-1)[region].mean(), (gx * gy).sum(-1)[region].mean()],
                       [(gx * gy).sum(-1)[region].mean(), (gy * gy).sum(-1)[region].mean()]])
    low, high = np.linalg.eigvalsh(tensor)
    return low > 0.2 * high and low > 4.0


def _visible(labels: list[np.ndarray], layer: int, margin: int) -> np.ndarray:
    region = np.ones_like(labels[0], bool)
    for lab in labels:
        region &= ndimage.binary_erosion(lab == layer, iterations=margin)
    region[:margin], region[-margin:], region[:, :margin], region[:, -margin:] = False, False, False, False
    return region


@pytest.mark.slow
def test_flow_between_frames_matches_the_metadata_motion(demo_index):
    """Per layer, the flow A -> C equals its d, and B -> amplified equals (alpha - 1) d, so the
    target is moved by alpha d from A (the TF convention,
    docs/oh2018.md#the-original-the-alpha-convention; B has C's geometry). Measured where the
    layer is on top in both frames and textured in two directions, by a translation fit
    independent of the renderer."""
    generator = Generator(FLOW_RECIPE, demo_index, seed=11)
    checked = []
    for index in range(8):
        frames, alpha, meta = generator.sample(index)
        _, (rest, moved, amplified) = generator.renderer.render_float(meta, with_labels=True)
        for number, layer in enumerate(layers(meta)):
            d = displacement(layer)
            for pair, labels, truth, tolerance in (
                (("frame_a", "frame_c"), [rest, moved], d, 0.1),
                (("frame_b", "amplified"), [moved, amplified], (alpha - 1) * d, 0.1 + 0.01 * alpha * np.linalg.norm(d)),
            ):
                region = _visible(labels, number, 3 + int(math.ceil(np.linalg.norm(truth))))
                if region.sum() < 150 or not well_posed(frames[pair[0]], region):
                    continue
                estimate = fit_translation(frames[pair[0]], frames[pair[1]], region, search=13)
                assert np.linalg.norm(estimate - truth) < tolerance, (index, number, estimate, truth)
                checked.append(np.linalg.norm(truth))
    assert len(checked) >= 12 and max(checked) > 4  # enough layers, some large motions


# --- the five subsets -----------------------------------------------------------------------------

def test_subsets_show_their_defining_property(small_set):
    samples = SyntheticSet(small_set)
    recipe = load_recipe(SMALL_RECIPE)
    seen = []
    for i in range(len(samples)):
        frames, alpha = samples[i]
        meta = samples.meta(i)
        a, b, c, amp = (f.astype(int) for f in frames)
        seen.append(meta["subset"])
        assert recipe["alpha"]["range"][0] <= alpha <= recipe["alpha"]["range"][1]
        assert recipe["objects"][0] <= len(meta["objects"]) <= recipe["objects"][1]
        for layer in layers(meta):
            assert layer["motion_amount"] <= min(recipe["max_motion"], recipe["max_magnified"] / alpha) + 1e-9
            assert np.all(np.abs(layer["color_add"]) <= recipe["color_add"])
        bg, objects = meta["background"], meta["objects"]
        moving = [layer["motion_amount"] > 0 for layer in objects]
        if meta["subset"] == "static":  # nothing moves: frames differ by the dither only
            assert bg["motion_amount"] == 0 and not any(moving)
            assert np.abs(a - c).max() <= 1 and np.abs(b - amp).max() <= 1
        elif meta["subset"] == "background_only":
            assert bg["motion_amount"] > 0 and not any(moving)
        elif meta["subset"] == "static_background":
            assert bg["motion_amount"] == 0 and all(moving)
        else:
            assert bg["motion_amount"] > 0 and all(moving)
        assert (bg["blur"] > 0) == (meta["subset"] == "blurred_background")
        # B and the target carry colour perturbation; A and C do not
        assert np.abs(b - c).mean() > 1.0
    assert sorted(seen) == sorted(list(SUBSETS) * 2)  # exact shares


def test_blurred_background_has_less_fine_texture(demo_index):
    generator = Generator(SMALL_RECIPE | {"subsets": {"normal": 0, "blurred_background": 1, "background_only": 0,
                                                      "static": 0, "static_background": 0}}, demo_index, seed=5)
    frames, _, meta = generator.sample(0)
    sharp = dict(meta, background=dict(meta["background"], blur=0.0))
    blurred_frame = generator.renderer.render_float(meta)["frame_a"]
    sharp_frame, (labels, _, _) = generator.renderer.render_float(sharp, with_labels=True)
    background = labels == 0
    energy = [np.abs(ndimage.laplace(f.mean(axis=2)))[background].mean() for f in (blurred_frame, sharp_frame["frame_a"])]
    assert energy[0] < 0.5 * energy[1]


def test_subset_cycle_gives_exact_shares():
    cycle = subset_cycle({"normal": 2, "static": 1})
    assert cycle == ["normal", "static", "normal"]
    with pytest.raises(ValueError):
        subset_cycle({})


def test_dither_rounds_up_with_the_residual_probability():
    rng = np.random.default_rng(0)
    values = dither(np.full((200, 200), 100.3 / 255, np.float32), rng)
    assert set(np.unique(values)) == {100, 101}
    assert (values == 101).mean() == pytest.approx(0.3, abs=0.01)
    assert dither(np.full((100, 100), 100.3 / 255, np.float32), rng).mean() == pytest.approx(100.3, abs=0.02)


# --- the evaluation sweeps -------------------------------------------------------------------------

def test_subpixel_sweep_magnifies_every_level_to_the_same_output_motion(demo_index):
    settings = set_settings(dict(recipe=FLOW_RECIPE, samples=1, sweep=dict(kind="subpixel", levels=[0.04, 1.0, 15])))
    generator = Generator(FLOW_RECIPE, demo_index, seed=2)
    samples = list(shard_samples(generator, settings, 0))
    levels = sweep_levels(settings["sweep"])
    assert len(samples) == 15 and levels[0] == pytest.approx(0.04) and levels[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log(levels)), np.log(25) / 14)
    for (frames, alpha, meta), level in zip(samples, levels):
        assert meta["level"] == pytest.approx(level) and alpha * level == pytest.approx(10.0)
        assert all(layer["motion_amount"] == pytest.approx(level) for layer in layers(meta))
        assert np.abs(frames["frame_b"].astype(int) - frames["frame_c"]).max() <= 1  # B = C: no perturbation
    # the same scene at every level: the rest frame is the same
    assert np.abs(samples[0][0]["frame_a"].astype(int) - samples[-1][0]["frame_a"]).max() <= 1
    # the largest level's 10 px output motion, measured
    frames, alpha, meta = samples[-1]
    _, (_, moved, amplified) = generator.renderer.render_float(meta, with_labels=True)
    for number, layer in enumerate(layers(meta)):
        region = _visible([moved, amplified], number, 13)
        if region.sum() > 150 and well_posed(frames["frame_b"], region):
            estimate = fit_translation(frames["frame_b"], frames["amplified"], region, search=11)
            assert np.linalg.norm(estimate - (alpha - 1) * displacement(layer)) < 0.2


def test_noise_sweep_adds_photon_noise_of_the_stated_strength(demo_index):
    settings = set_settings(dict(recipe=SMALL_RECIPE, samples=1, sweep=dict(kind="noise", levels=[0.01, 100, 21])))
    generator = Generator(SMALL_RECIPE, demo_index, seed=4)
    samples = list(shard_samples(generator, settings, 0))
    levels = sweep_levels(settings["sweep"])
    assert len(samples) == 21 and levels[10] == pytest.approx(1.0)
    for frames, alpha, meta in samples:
        assert alpha == pytest.approx(200) and meta["background"]["motion_amount"] == 0
        assert all(layer["motion_amount"] == pytest.approx(0.05) for layer in meta["objects"])
    frames = samples[10][0]  # factor 1: std = sqrt(I) on the 0-255 scale
    clean = frames["frame_c"].astype(float)
    residual = frames["frame_b"] - clean
    keep = (clean > 30) & (clean < 220)  # away from clipping
    assert np.std(residual[keep] / np.sqrt(clean[keep])) == pytest.approx(1.0, rel=0.1)
    # the ground truth and C stay clean at every level
    assert np.abs(samples[20][0]["frame_c"].astype(int) - samples[0][0]["frame_c"]).max() <= 1
    assert np.abs(samples[20][0]["amplified"].astype(int) - samples[0][0]["amplified"]).max() <= 1


# --- storage and the Dataset -----------------------------------------------------------------------

def test_dataset_reads_every_shard_from_several_dataloader_workers(small_set):
    samples = SyntheticSet(small_set)
    assert len(samples) == 10 and samples.manifest["made"]["seed"] == 3
    direct = [samples[i] for i in range(len(samples))]
    loader = torch.utils.data.DataLoader(samples, batch_size=None, num_workers=2)
    for (frames, alpha), (expected, expected_alpha) in zip(loader, direct, strict=True):
        assert np.array_equal(np.asarray(frames), expected) and float(alpha) == expected_alpha
    assert direct[0][0].shape == (4, 48, 48, 3) and direct[0][0].dtype == np.uint8
    with pytest.raises(IndexError):
        samples[10]


def test_frames_are_stored_losslessly_and_compactly(small_set, demo_index):
    import h5py

    samples = SyntheticSet(small_set)
    frames, _ = samples[6]
    expected = Generator(SMALL_RECIPE, demo_index, seed=3).sample(6)[0]
    assert all(np.array_equal(frames[k], expected[name]) for k, name in enumerate(FRAMES))
    shard = small_set.parent / "shard-1.h5"
    with h5py.File(shard) as f:
        assert f.attrs["encoding"] == "webp"
        stored = sum(len(f[name][i]) for name in FRAMES for i in range(5))
        meta = sum(len(f["meta"][i]) for i in range(5))
    png = sum(len(cv2.imencode(".png", frame)[1]) for i in range(5, 10) for frame in samples[i][0])
    assert stored < 0.9 * png  # lossless WebP beats PNG
    assert shard.stat().st_size < stored + meta + 64_000  # a fixed overhead (HDF5 structures) beyond the payload


def test_a_stale_or_foreign_file_is_refused(small_set, tmp_path):
    manifest = json.loads(small_set.read_text())
    manifest["shards"][0]["samples"] = 4
    stale = small_set.parent / "stale.json"
    stale.write_text(json.dumps(manifest))
    with pytest.raises(MotionmagError, match="the manifest says 4"):
        SyntheticSet(stale)
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(MotionmagError, match="not a synthetic set manifest"):
        SyntheticSet(tmp_path / "other.json")


# --- the COCO + VOC source -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def coco_voc(tmp_path_factory) -> tuple[Path, Path]:
    """Folders laid out like COCO train2017 and VOC2012, with real photos and instance masks."""
    from skimage import data as skdata

    root = tmp_path_factory.mktemp("cocovoc")
    coco, voc = root / "train2017", root / "VOC2012"
    coco.mkdir()
    for i, name in enumerate(("astronaut", "coffee", "rocket")):
        cv2.imwrite(str(coco / f"{i:012d}.jpg"), cv2.cvtColor(getattr(skdata, name)(), cv2.COLOR_RGB2BGR))
    for sub in ("JPEGImages", "SegmentationObject", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True)
    names = ["2007_000032", "2007_000039"]
    for name, photo in zip(names, ("chelsea", "coffee")):
        image = getattr(skdata, photo)()
        cv2.imwrite(str(voc / "JPEGImages" / f"{name}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        ids = np.zeros(image.shape[:2], np.uint8)
        ids[40:140, 60:200] = 1  # an instance with VOC's void outline
        ids[150:250, 220:330] = 2
        ids[10:14, 10:14] = 3  # a fragment below the minimum area
        outline = ndimage.binary_dilation(ids > 0, iterations=2) & ~ndimage.binary_erosion(ids > 0, iterations=2)
        ids[outline & (ids != 3)] = 255
        png = Image.fromarray(ids, mode="P")
        png.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * (3 * 251) + [224, 224, 192])
        png.save(voc / "SegmentationObject" / f"{name}.png")
    (voc / "ImageSets/Segmentation/trainval.txt").write_text("\n".join(names) + "\n")
    return coco, voc


def test_coco_voc_source_reads_instances_with_soft_outlines(coco_voc, tmp_path):
    coco, voc = coco_voc
    index = build_index("coco-voc", coco, voc)
    assert index["backgrounds"] == [f"{i:012d}.jpg" for i in range(3)]
    assert [row[:2] for row in index["instances"]] == [["2007_000032", 1], ["2007_000032", 2], ["2007_000039", 1], ["2007_000039", 2]]
    source = open_source(index)
    rgb, mask, name = source.object(0)
    assert name == "voc:2007_000032#1" and rgb.shape[:2] == mask.shape
    assert set(np.unique(mask)) == {0.0, 0.5, 1.0}
    assert mask[mask.shape[0] // 2, mask.shape[1] // 2] == 1.0 and mask[0, 0] == 0.0
    assert source.background(1).shape == (400, 600, 3)
    write_index(index, tmp_path / "sources.json")
    recipe = dict(SMALL_RECIPE, size=64)
    assert write_shard(tmp_path / "shard.h5", dict(recipe=recipe, samples=3), tmp_path / "sources.json", 0) == 3
    meta = SyntheticSet(tmp_path / "shard.h5").meta(2)
    assert meta["background_file"] in index["backgrounds"] and meta["source"] == "coco-voc"


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_cli_indexes_coco_voc_and_generates_from_the_index(coco_voc, tmp_path):
    coco, voc = coco_voc
    index = motionmag("synth", "index", "--source", "coco-voc", "--coco", str(coco), "--voc", str(voc), "-o", str(tmp_path / "i.json"))
    assert index.returncode == 0 and "3 backgrounds, 4 objects" in index.stderr, index.stderr
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps(dict(SMALL_RECIPE, size=32)))
    made = motionmag("synth", "generate", str(recipe), "--index", str(tmp_path / "i.json"), "--samples", "2", "-q", "-o", str(tmp_path / "s.h5"))
    assert made.returncode == 0 and len(SyntheticSet(tmp_path / "s.h5")) == 2, made.stderr


def test_missing_sources_are_one_line_errors(tmp_path):
    with pytest.raises(MotionmagError, match="COCO image folder not found"):
        build_index("coco-voc", tmp_path / "nope", tmp_path)
    (tmp_path / "coco").mkdir()
    cv2.imwrite(str(tmp_path / "coco" / "a.jpg"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(MotionmagError, match="not a VOC 2012 folder"):
        build_index("coco-voc", tmp_path / "coco", tmp_path)
    with pytest.raises(MotionmagError, match="unknown synthetic source"):
        build_index("imagenet")


# --- recipes and the command line ------------------------------------------------------------------

def test_recipes_in_config_are_valid_and_bad_keys_are_named():
    root = Path(__file__).resolve().parents[1]
    paper = load_recipe(root / "config/synthetic/oh2018.yaml")
    assert paper["size"] == 384 and paper["objects"] == [7, 15] and paper["alpha"]["range"] == [1, 100]
    assert paper["max_motion"] == 10 and paper["max_magnified"] == 30 and sum(paper["subsets"].values()) == 5
    load_recipe(root / "config/synthetic/demo.yaml")
    with pytest.raises(MotionmagError, match="config key render_scale"):
        load_recipe({"name": "x", "render_scale": 0})
    with pytest.raises(MotionmagError, match="sweep kind"):
        set_settings(dict(recipe="x", samples=1, sweep=dict(kind="blur", levels=[1, 2, 3])))


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_cli_preview_writes_a_contact_sheet(small_set, tmp_path):
    out = tmp_path / "sheet.png"
    run = motionmag("synth", "preview", str(small_set), "--count", "3", "-o", str(out))
    assert run.returncode == 0, run.stderr
    sheet = cv2.imread(str(out))
    tile = 48 * math.ceil(256 / 48)
    assert sheet.shape == (28 + 3 * (28 + tile), 4 * tile + 12, 3)
    made = motionmag("synth", "preview", "--recipe", str(Path(__file__).resolve().parents[1] / "config/synthetic/demo.yaml"),
                     "--sweep", "noise", "--count", "2", "-o", str(tmp_path / "noise.png"))
    assert made.returncode == 0 and (tmp_path / "noise.png").is_file(), made.stderr


@pytest.mark.parametrize("args, message", [
    (["preview", "missing.json"], "manifest not found"),
    (["preview", "-o", "sheet.jpg"], "must be .png"),
    (["preview", "SET", "--start", "99"], "past its 10 samples"),
    (["preview", "--coco", "x"], "go with --source coco-voc"),
    (["generate", "RECIPE", "--samples", "4", "--shard", "3"], "out of range"),
    (["generate", "RECIPE", "--samples", "0"], "at least 1"),
    (["generate", "nope.yaml"], "synthetic recipe not found"),
    (["index", "--source", "coco-voc", "-o", "x.json"], "needs the COCO"),
    (["generate", "RECIPE", "--seed", "-1"], "expected 0 or more"),
    (["generate", "RECIPE", "--index", "RECIPE"], "not a synthetic source index"),
    (["generate", "RECIPE", "--index", "x.json", "--source", "demo"], "give one or the other"),
    (["preview", "SET", "--recipe", "RECIPE"], "--recipe is for making samples"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, message, small_set, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(json.dumps(SMALL_RECIPE))
    args = [{"SET": str(small_set), "RECIPE": str(recipe)}.get(a, a) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / ("out.h5" if args[0] == "generate" else "out.png"))]
    run = subprocess.run([sys.executable, "-m", "motionmag", "synth", *args], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "out.png").exists()
