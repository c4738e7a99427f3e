"""Training Axial-MM, EulerMormer and STB-VMM on the shared trainer: their losses against direct
formulas, the noise models, a step that moves every weight, the step schedule through a resumed
run, per-axis synthetic samples, the command line and what the magnifiers load."""

from __future__ import annotations

import copy
import csv
import dataclasses
import math

import cv2
import numpy as np
import pytest
import torch
import yaml
from scipy import ndimage

from conftest import run_motionmag
from motionmag.checkpoint import read_checkpoint
from motionmag.errors import MotionmagError
from motionmag.losses import (AxialLoss, EulerMormerLoss, STBVMMLoss, charbonnier, edge_loss, laplacian,
                              noisy_frames)
from motionmag.synth.generate import Generator, write_shard
from motionmag.synth.render import target_transform
from motionmag.synth.samples import SyntheticSet
from motionmag.synth.sources import build_index
from motionmag.train.network import (METHODS, NetworkTask, load_network_config, network_payload, settings_from,
                                     train_network)
from motionmag.train.trainer import step_scheduler

TINY_RECIPE = {"name": "tiny", "size": 32, "objects": [1, 2], "object_scale": [0.3, 0.6], "max_motion": 1.5,
               "max_magnified": 6, "prefilter_sigma": 1.0, "alpha": {"range": [1, 10], "law": "log-uniform"}}
AXIAL_RECIPE = {**TINY_RECIPE, "name": "tiny-axial", "axial": {"theta": [0, 180], "generic": 0.25}}


def tiny_config(name: str, **train) -> dict:
    return {"name": "tiny", "data": {"crop": 32, "batch_size": 2, "num_workers": 0, "val_samples": 2},
            "train": {"steps": 2, "seed": 1, **train}, "log": {"log_every": 1, "val_every": 100, "checkpoint_every": 100,
                                                          "probe": False}}


def write_config(path, config: dict):
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """Two tiny 32^2 sets: Oh's samples and per-axis ones (8 each)."""
    folder = tmp_path_factory.mktemp("newer_sets")
    index = build_index("demo")
    paths = {}
    for key, recipe in (("oh", TINY_RECIPE), ("axial", AXIAL_RECIPE)):
        paths[key] = folder / f"{key}.h5"
        assert write_shard(paths[key], dict(recipe=recipe, samples=8), index, 0) == 8
    return paths


def validated(name: str, config: dict, tmp_path) -> dict:
    return load_network_config(name, write_config(tmp_path / f"{name}.yaml", config))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One thread: conftest's two spin-wait each other on a loaded 2-core machine (10-30x slower
    steps); CPU results do not depend on it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_stbvmm():
    from motionmag.models.stbvmm import build_stbvmm

    return build_stbvmm(embed_dim=24, depths=(2, 2), num_heads=(2, 2))


# --- losses against direct formulas -----------------------------------------------------------------

def test_charbonnier_and_edge_loss_match_a_direct_computation():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (2, 3, 12, 10)), rng.uniform(-1, 1, (2, 3, 12, 10))
    assert float(charbonnier(torch.tensor(x), torch.tensor(y))) == pytest.approx(np.sqrt((x - y) ** 2 + 1e-6).mean(), rel=1e-6)

    taps = np.array([0.05, 0.25, 0.4, 0.25, 0.05])
    kernel = np.outer(taps, taps)

    def lap(image):  # per channel: replicate pad ("nearest"), filter, keep even samples x4, filter again
        out = np.empty_like(image)
        for b in range(image.shape[0]):
            for c in range(image.shape[1]):
                g = ndimage.correlate(image[b, c], kernel, mode="nearest")
                up = np.zeros_like(g)
                up[::2, ::2] = 4 * g[::2, ::2]
                out[b, c] = image[b, c] - ndimage.correlate(up, kernel, mode="nearest")
        return out

    np.testing.assert_allclose(laplacian(torch.tensor(x)).numpy(), lap(x), atol=1e-12)
    expected = np.sqrt((lap(x) - lap(y)) ** 2 + 1e-6).mean()
    assert float(edge_loss(torch.tensor(x), torch.tensor(y))) == pytest.approx(expected, rel=1e-5)
    flat = np.full((1, 3, 12, 12), 0.3)  # a constant image has no edges (inside: the zero-filled grid's pad has)
    assert np.abs(laplacian(torch.tensor(flat)).numpy()[..., 3:-3, 3:-3]).max() < 1e-12


def representations(b=2, c=4, h=6, w=5, seed=0):
    """Frames A, B, C of random representations, (b, 3, c, h, w)."""
    return torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, (b, 3, c, h, w))).float()


def test_newer_losses_are_their_originals_formulas():
    rng = np.random.default_rng(1)
    output, target = (torch.from_numpy(rng.uniform(0, 1, (2, 3, 8, 8))).float() for _ in range(2))
    out, y = output * 2 - 1, target * 2 - 1  # the originals measure images on [-1, 1]
    textures, shapes = representations(c=4, seed=2), representations(c=8, seed=3)

    axial = AxialLoss()(output, target, textures, shapes)
    x_term = (shapes[:, 1, :4] - shapes[:, 2, :4]).abs().mean()  # shape_x: the first half of the channels
    y_term = (shapes[:, 1, 4:] - shapes[:, 2, 4:]).abs().mean()
    expected = (out - y).abs().mean() + (textures[:, 0] - textures[:, 2]).abs().mean() + (x_term + y_term) / 2
    assert float(axial["loss"]) == pytest.approx(float(expected), rel=1e-6)
    assert float(axial["loss_shape_x"]) == pytest.approx(float(x_term)) and float(axial["loss_shape_y"]) == pytest.approx(float(y_term))
    weighted = AxialLoss(texture=0.5, shape=0.0)(output, target, textures, shapes)["loss"]
    assert float(weighted) == pytest.approx(float((out - y).abs().mean() + 0.5 * (textures[:, 0] - textures[:, 2]).abs().mean()), rel=1e-6)

    def charb(a, b):
        return torch.sqrt((a - b) ** 2 + 1e-6).mean()

    euler = EulerMormerLoss()(output, target, textures, shapes)
    expected = (charb(out, y) + 0.1 * charb(textures[:, 0], textures[:, 2]) + 0.1 * charb(shapes[:, 1], shapes[:, 2])
                + 0.5 * charb(laplacian(out), laplacian(y)))
    assert float(euler["loss"]) == pytest.approx(float(expected), rel=1e-6)
    assert float(euler["loss_image"]) == pytest.approx(float(charb(out, y)), rel=1e-6)

    features = representations(c=6, seed=4)
    stb = STBVMMLoss()(output, target, features)
    expected = (out - y).abs().mean() + 0.1 * (features[:, 1] - features[:, 2]).abs().mean()
    assert float(stb["loss"]) == pytest.approx(float(expected), rel=1e-6)
    same = STBVMMLoss()(target, target, features[:, [0, 1, 1]])  # R_B = R_C and a perfect output: zero
    assert float(same["loss"]) == 0.0


def test_noise_options_per_frame_target_and_clamp():
    frames = torch.full((3, 4, 3, 64, 64), 0.5)
    unit = math.sqrt(0.5 * 255) / 255  # the std at strength 1 for a mid-grey pixel

    def strengths(noisy):  # (samples, frames) estimated strength
        return ((noisy - frames).flatten(2).std(-1) / unit).numpy()

    per_sample = strengths(noisy_frames(frames, 0.3, torch.Generator().manual_seed(0)))
    assert np.all(per_sample[:, 3] == 0)  # the target untouched
    np.testing.assert_allclose(per_sample[:, :3], per_sample[:, :1].repeat(3, 1), rtol=0.1)  # one strength per sample
    per_frame = strengths(noisy_frames(frames, 0.3, torch.Generator().manual_seed(0), per_frame=True, target=True))
    assert np.all(per_frame > 0) and np.all(per_frame < 0.33)
    assert np.abs(per_frame - per_frame[:, :1]).max() > 0.02  # frames of a sample differ
    again = noisy_frames(frames, 0.3, torch.Generator().manual_seed(0), per_frame=True, target=True)
    assert torch.equal(again, noisy_frames(frames, 0.3, torch.Generator().manual_seed(0), per_frame=True, target=True))
    dark = torch.full((2, 4, 3, 32, 32), 0.002)
    unclamped = noisy_frames(dark, 0.3, torch.Generator().manual_seed(1), per_frame=True)
    clamped = noisy_frames(dark, 0.3, torch.Generator().manual_seed(1), per_frame=True, clamp=True)
    assert unclamped.min() < 0 and clamped.min() >= 0 and torch.equal(clamped, unclamped.clamp(0, 1))


def test_defaults_are_each_originals_recipe(tmp_path):
    paper = {name: load_network_config(name, f"config/{name}/paper.yaml") for name in METHODS}
    minimal = {name: validated(name, {"name": "x", "train": {"steps": 1}}, tmp_path) for name in METHODS}
    for name in METHODS:  # the paper configs spell out the schema's defaults
        for key in ("lr", "betas", "schedule", "loss", "noise"):
            assert paper[name]["train"][key] == minimal[name]["train"][key], (name, key)
        assert paper[name]["data"]["batch_size"] == minimal[name]["data"]["batch_size"]
    axial, euler, stb = (minimal[n]["train"] for n in ("axial", "eulermormer", "stbvmm"))
    assert axial["lr"] == 2e-4 and axial["schedule"] == {"step": 3000, "gamma": 0.97} and axial["betas"] == [0.9, 0.999]
    assert axial["noise"] == {"strength": 0.3, "per_frame": True, "target": False, "clamp": True}
    assert minimal["axial"]["data"]["batch_size"] == 8
    assert euler["lr"] == 2e-4 and euler["schedule"] is None and euler["loss"] == {"texture": 0.1, "shape": 0.1, "edge": 0.5}
    assert euler["noise"] == stb["noise"] == {"strength": 0.3, "per_frame": True, "target": True, "clamp": False}
    assert stb["lr"] == 1e-5 and stb["loss"] == {"features": 0.1} and minimal["stbvmm"]["data"]["batch_size"] == 5


# --- one step --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(METHODS))
def test_one_step_moves_every_weight(name, sets, tmp_path):
    config = validated(name, tiny_config(name, lr=1e-3), tmp_path)
    torch.manual_seed(0)
    task = NetworkTask(name, config, sets["axial" if name == "axial" else "oh"], model=tiny_stbvmm() if name == "stbvmm" else None)
    source = task.source()
    batch = [source.sample(i, seed=i) for i in range(2)]
    frames, factors = torch.stack([b[0] for b in batch]), torch.stack([b[1] for b in batch])
    if name == "axial":
        assert factors.shape == (2, 3) and (factors[:, 2] != 0).any()
    before = copy.deepcopy(task.model.state_dict())
    optimizer = torch.optim.Adam(task.model.parameters(), lr=1e-3)
    task.model.train()
    metrics = task.loss(task.model, (frames, factors), torch.Generator().manual_seed(0))
    assert set(metrics) == set(task.metric_names) and all(torch.isfinite(v) for v in metrics.values())
    metrics["loss"].backward()
    missing = [k for k, p in task.model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()
               or p.grad.abs().max() == 0]
    assert not missing, f"no gradient reaches {missing[:5]}"
    optimizer.step()
    after = task.model.state_dict()
    unchanged = [k for k, p in task.model.named_parameters() if torch.equal(before[k], after[k])]
    assert not unchanged


def test_exported_models_load_in_the_magnifiers(sets, tmp_path):
    """The payload's kind and layout; the magnifiers load it as they load the authors' files."""
    from motionmag.methods.eulermormer import EulerMormerMagnifier

    config = validated("eulermormer", tiny_config("eulermormer"), tmp_path)
    task = NetworkTask("eulermormer", config, sets["oh"])
    payload = network_payload("eulermormer", task.model, config, step=7)
    assert payload["kind"] == "eulermormer" and payload["step"] == 7 and payload["training"]["loss"]["edge"] == 0.5
    path = tmp_path / "model.pt"
    torch.save(payload, path)
    magnifier = EulerMormerMagnifier(path)
    for key, value in task.model.state_dict().items():
        assert torch.equal(magnifier.net.state_dict()[key], value)
    frame = np.zeros((20, 24, 3), np.uint8)
    assert next(iter(magnifier.magnify(iter([frame, frame]), alpha=4))).shape == frame.shape


def test_stbvmm_drop_path_is_seeded_by_the_step(sets, tmp_path):
    """Drop path draws from torch's global RNG: the task seeds it per step (exact resume) and
    leaves the caller's global RNG as it was."""
    config = validated("stbvmm", tiny_config("stbvmm"), tmp_path)
    torch.manual_seed(0)
    model = tiny_stbvmm()
    for block in model.modules():
        if hasattr(block, "drop_prob"):
            block.drop_prob = 0.5  # make the draws matter
    task = NetworkTask("stbvmm", config, sets["oh"], model=model)
    frames, factors = (torch.stack(x) for x in zip(*[task.source().sample(i, seed=i) for i in range(2)]))
    losses = []
    for seed in (0, 0, 1):
        torch.manual_seed(123)
        losses.append(task.loss(model, (frames, factors), torch.Generator().manual_seed(seed))["loss"].item())
        assert torch.equal(torch.get_rng_state(), torch.manual_seed(123).get_state())
    assert losses[0] == losses[1] != losses[2]


# --- the step schedule and exact resume ---------------------------------------------------------------

@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_step_schedule_round_trips_through_a_resumed_run(sets, tmp_path):
    config = tiny_config("axial", steps=6, lr=1e-3, schedule={"step": 2, "gamma": 0.5})
    config["log"].update(checkpoint_every=3)
    path = write_config(tmp_path / "axial.yaml", config)
    whole = train_network("axial", path, sets["axial"], tmp_path / "whole", progress=False)
    train_network("axial", path, sets["axial"], tmp_path / "split", steps=3, progress=False)
    state = read_checkpoint(tmp_path / "split/state/latest.pt")
    assert state["step"] == 3 and state["scheduler"]["last_epoch"] == 3 and state["config"]["train"]["schedule"] == {"step": 2, "gamma": 0.5}
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(5e-4)
    split = train_network("axial", path, sets["axial"], tmp_path / "split", progress=False)
    a, b = read_checkpoint(whole)["state_dict"], read_checkpoint(split)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    final = [read_checkpoint(tmp_path / run / "state/latest.pt") for run in ("whole", "split")]
    assert final[0]["scheduler"] == final[1]["scheduler"] and final[0]["scheduler"]["last_epoch"] == 6
    assert final[0]["optimizer"]["param_groups"][0]["lr"] == final[1]["optimizer"]["param_groups"][0]["lr"] == 1.25e-4
    with open(tmp_path / "split/log.csv") as stream:  # each step logs the rate it ran at
        rates = [float(row["lr"]) for row in csv.DictReader(stream) if row["split"] == "train"]
    assert rates == [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4]


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_stbvmm_resumes_exactly_through_its_drop_path(sets, tmp_path):
    """A (small) STB-VMM with drop path 0.5 everywhere: 2 steps, then resumed to 4, equals 4 straight."""
    from motionmag.train.trainer import train

    config = validated("stbvmm", tiny_config("stbvmm", steps=4, lr=1e-3), tmp_path)
    config["log"].update(checkpoint_every=2)

    def run(out, steps):
        torch.manual_seed(0)
        model = tiny_stbvmm()
        for block in model.modules():
            if hasattr(block, "drop_prob"):
                block.drop_prob = 0.5
        task = NetworkTask("stbvmm", config, sets["oh"], model=model)
        return train(task, dataclasses.replace(settings_from(config), steps=steps), out, progress=False)

    straight = read_checkpoint(run(tmp_path / "straight", 4))["state_dict"]
    run(tmp_path / "resumed", 2)
    resumed = read_checkpoint(run(tmp_path / "resumed", 4))["state_dict"]
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


@pytest.mark.slow
def test_axial_ddp_with_two_processes_matches_one_process(sets, tmp_path):
    """torchrun, 2 processes x 1 sample, with the step schedule, trains what one process with 2
    does (no noise, so both see the same inputs; equal up to float rounding)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    config = tiny_config("axial", steps=4, lr=1e-3, schedule={"step": 2, "gamma": 0.5}, noise={"strength": 0.0})
    path = write_config(tmp_path / "ddp.yaml", config)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = ["-m", "motionmag", "train", "axial", str(path), "--data", str(sets["axial"]), "--device", "cpu", "--quiet", "-o"]
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2"]
    two = subprocess.run(torchrun + command + [str(tmp_path / "two")], capture_output=True, text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run([sys.executable] + command + [str(tmp_path / "one")], capture_output=True, text=True, env=env)
    assert one.returncode == 0, one.stderr[-2000:]
    states = [read_checkpoint(tmp_path / run / "state/latest.pt") for run in ("one", "two")]
    assert states[1]["config"]["world_size"] == 2 and states[0]["scheduler"] == states[1]["scheduler"]
    a, b = (read_checkpoint(tmp_path / run / "model.pt")["state_dict"] for run in ("one", "two"))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_step_scheduler_is_the_closed_form_and_absent_without_a_schedule():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=2e-4)
    assert step_scheduler(optimizer, None) is None
    scheduler = step_scheduler(optimizer, {"step": 3000, "gamma": 0.97})
    rates = []
    for _ in range(9001):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[2999] == 2e-4 and rates[3000] == pytest.approx(2e-4 * 0.97) and rates[9000] == pytest.approx(2e-4 * 0.97**3)
    with pytest.raises(MotionmagError, match="schedule"):
        step_scheduler(optimizer, {"step": 0, "gamma": 0.5})


# --- per-axis samples -------------------------------------------------------------------------------

def test_per_axis_samples_store_alpha_across_and_theta(sets):
    axial, oh = SyntheticSet(sets["axial"]), SyntheticSet(sets["oh"])
    assert axial.axial and not oh.axial
    generic = 0
    for i in range(len(axial)):
        alpha, across, theta = axial.factors(i)
        meta = axial.meta(i)
        assert axial[i][1] == pytest.approx(alpha) and alpha == pytest.approx(meta["alpha"], rel=1e-6)
        assert across == pytest.approx(meta["alpha_across"], rel=1e-6) and theta == pytest.approx(meta["theta"], rel=1e-6)
        assert 0 <= theta < math.pi and 1 <= across <= 10
        generic += across == alpha
    assert 0 < generic < len(axial)  # the generic share (0.25 of 8)
    for i in range(len(oh)):
        assert oh.factors(i) == (oh[i][1], oh[i][1], 0.0) and "theta" not in oh.meta(i)


def test_per_axis_target_moves_by_alpha_along_theta_and_alpha_across_across_it():
    """The target of a per-axis sample is, layer by layer, the scene moved by alpha (d.u) u +
    alpha_across (d.v) v, u = (cos theta, -sin theta) in pixel coordinates (counter-clockwise as
    displayed) and v across it: the same as rendering Oh's frame B with each layer's motion
    replaced by that vector."""
    generator = Generator({**AXIAL_RECIPE, "size": 48, "axial": {"generic": 0.0}}, build_index("demo"), seed=5)
    renderer = generator.renderer
    for index in range(3):
        frames, alpha, meta = generator.sample(index)
        theta, across = meta["theta"], meta["alpha_across"]
        u, v = np.array([math.cos(theta), -math.sin(theta)]), np.array([math.sin(theta), math.cos(theta)])
        assert across != alpha
        moved = copy.deepcopy({k: val for k, val in meta.items() if k not in ("alpha_across", "theta")})
        moved["alpha"] = 1.0
        for layer in (moved["background"], *moved["objects"]):
            d = layer["motion_amount"] * np.array([math.cos(layer["motion_dir"]), math.sin(layer["motion_dir"])])
            target = alpha * (d @ u) * u + across * (d @ v) * v
            np.testing.assert_allclose(target_transform(meta) @ d, target, atol=1e-12)
            layer.update(motion_amount=float(np.hypot(*target)), motion_dir=float(math.atan2(target[1], target[0])))
        expected = renderer.render_float(moved)["frame_b"]
        np.testing.assert_allclose(renderer.render_float(meta)["amplified"], expected, atol=2e-4)
        assert np.abs(frames["amplified"] / 255.0 - expected).max() <= 1 / 255 + 1e-3  # the stored (dithered) frame


def test_sweeps_of_an_axial_recipe_stay_generic(tmp_path):
    path = tmp_path / "sweep.h5"
    settings = dict(recipe=AXIAL_RECIPE, samples=1, sweep=dict(kind="subpixel", levels=[0.1, 1.0, 2], magnified=10.0))
    write_shard(path, settings, build_index("demo"), 0)
    sweep = SyntheticSet(path)
    assert not sweep.axial and sweep.factors(0) == (sweep[0][1], sweep[0][1], 0.0)


# --- the command line -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_sets(tmp_path_factory):
    """64^2 sets from the demo recipes (the demo configs crop 64^2)."""
    folder = tmp_path_factory.mktemp("demo_sets")
    index = build_index("demo")
    paths = {"axial": folder / "axial.h5", "oh": folder / "demo.h5"}
    write_shard(paths["axial"], dict(recipe="config/synthetic/axial_demo.yaml", samples=6), index, 0)
    write_shard(paths["oh"], dict(recipe="config/synthetic/demo.yaml", samples=6), index, 0)
    return paths


def cli_train_and_magnify(name: str, data, tmp_path):
    run = run_motionmag("train", name, f"config/{name}/demo.yaml", "--data", data, "-o", tmp_path / "run",
                        "--steps", "2", "--device", "cpu", "--quiet")
    assert run.returncode == 0, run.stderr[-2000:]
    model = tmp_path / "run/model.pt"
    payload = read_checkpoint(model)
    assert payload["kind"] == name and payload["step"] == 2 and payload["name"] == "demo"
    out = tmp_path / "out.mp4"
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(3):
        cv2.imwrite(str(clip / f"{i:03d}.png"), np.full((48, 64, 3), 60 + 40 * i, np.uint8))
    magnify = run_motionmag("magnify", clip, "--method", name, "--checkpoint", model, "--alpha", "4", "-o", out, "--quiet")
    assert magnify.returncode == 0, magnify.stderr[-2000:]
    assert out.stat().st_size > 0
    return payload


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_cli_trains_the_axial_demo_and_magnify_loads_it(demo_sets, tmp_path):
    payload = cli_train_and_magnify("axial", demo_sets["axial"], tmp_path)
    assert payload["training"]["schedule"] == {"step": 3000, "gamma": 0.97}
    with open(tmp_path / "run/log.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert rows[-1]["split"] == "val" and rows[-1]["amp_x4"] != ""  # the probe ran


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
@pytest.mark.parametrize("name", ["eulermormer", "stbvmm"])
def test_cli_trains_the_demo_and_magnify_loads_it(name, demo_sets, tmp_path):
    """STB-VMM's demo trains the released 31.3 M-parameter network (the one the magnifier loads):
    about 8 s here, in the slow tier."""
    payload = cli_train_and_magnify(name, demo_sets["oh"], tmp_path)
    assert payload["training"]["schedule"] is None
    assert "schedule" not in read_checkpoint(tmp_path / "run/state/latest.pt")["config"]["train"]  # as before schedules


@pytest.mark.parametrize("case, message", [
    ({"train": {"steps": 2, "loss": {"image": 1}}}, "config key train.loss.image"),
    ({"train": {"steps": 2, "schedule": {"step": 10, "gamma": 0}}}, "config key train.schedule.gamma"),
    ({"train": {"steps": 2, "noise": {"strength": -1}}}, "config key train.noise.strength"),
    ({"data": {"crop": 96}, "train": {"steps": 2}}, "smaller than data.crop 96"),
    ("per-axis", "per-axis samples"),
    ("no data", "needs --data FILE"),
])
def test_cli_bad_config_exits_2_with_one_line(case, message, sets, tmp_path):
    name, data = "eulermormer", sets["oh"]
    if case == "per-axis":
        case, data = {"train": {"steps": 2}}, sets["axial"]
    args = ["--data", data]
    if case == "no data":
        case, args = {"train": {"steps": 2}}, []
    config = write_config(tmp_path / "bad.yaml", {"name": "bad", **case})
    run = run_motionmag("train", name, config, *args, "-o", tmp_path / "run", "--quiet")
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
