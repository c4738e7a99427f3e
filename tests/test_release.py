"""The released demo weights: verified loading through the manifest, that they magnify, the
rendered flow pairs they were made from, and the flow network trained here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from motionmag.errors import MotionmagError
from motionmag.flow.weights import BUNDLED_DIR, WeightsStore
from motionmag.synth.flow_pairs import FlowPairRecipe, FlowPairRenderer, PhotoPool
from motionmag.train.probe import probe

RELEASED = ("flowmag-demo", "oh2018-demo")


def test_released_weights_are_bundled_listed_and_verified(tmp_path):
    store = WeightsStore()
    for name in RELEASED:
        entry = store.entry(name)
        assert entry.bundled and len(entry.sha256) == 64 and entry.format == "motionmag"
        assert store.require(name) == BUNDLED_DIR / entry.file  # verified against the full sha256
        assert store.require(name).stat().st_size < 8_000_000  # a few MB each
    # a wrong digest is refused before anything is loaded
    manifest = yaml.safe_load(open(store.manifest))
    manifest["flowmag-demo"]["sha256"] = "0" * 64
    (tmp_path / "weights.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(MotionmagError, match="sha256|digest"):
        WeightsStore(tmp_path / "weights.yaml").require("flowmag-demo")
    # a bundled entry without its full digest is refused when the manifest is read
    manifest["flowmag-demo"]["sha256"] = None
    (tmp_path / "weights.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(MotionmagError, match="full sha256"):
        WeightsStore(tmp_path / "weights.yaml")


def _magnify_with(method: str):
    from motionmag.methods.flowmag import load_flowmag
    from motionmag.methods.oh2018 import load_oh2018

    path = WeightsStore().require(f"{method}-demo")
    if method == "flowmag":
        generator = load_flowmag(path)[0]
        return lambda a, b, alpha: generator(a, b, torch.tensor([alpha]))
    network = load_oh2018(path)[0]
    return lambda a, b, alpha: network(a, b, alpha)


@pytest.mark.parametrize("method", ["flowmag", "oh2018"])
def test_released_demo_models_magnify_at_least_half_of_alpha_on_a_held_out_clip(method):
    """The probe clip (a cat over brick, 0.5 px) is in no training set; DIS measures the output."""
    with torch.no_grad():
        got = probe(_magnify_with(method))
    assert got["amp_x4"] >= 0.5 and got["amp_x10"] >= 0.5, got


def _renderer(**recipe) -> FlowPairRenderer:
    return FlowPairRenderer(FlowPairRecipe(**recipe), PhotoPool())


def test_rendered_pairs_carry_their_exact_flow():
    """Frame 1 warped back by the true flow gives frame 0 (up to interpolation), and a flow off by
    half a pixel does not: the flow is exact, not approximate."""
    from motionmag.flow.warp import backward_warp

    renderer = _renderer(size=128, noise=0.0, objects=(0, 0), rotation=0.0, scaling=0.0, zoom=(0.5, 0.5))
    for seed in range(3):
        frame0, frame1, flow = renderer.render(np.random.default_rng(seed))
        assert frame0.dtype == np.uint8 and flow.shape == (128, 128, 2)
        assert np.ptp(flow[..., 0]) < 1e-3 and np.ptp(flow[..., 1]) < 1e-3  # a pure translation
        a, b = (torch.from_numpy(f).permute(2, 0, 1)[None].float() for f in (frame0, frame1))
        f = torch.from_numpy(flow).permute(2, 0, 1)[None]
        inner = slice(20, -20)

        def residual(flow_field):
            return float((backward_warp(b, flow_field) - a)[..., inner, inner].abs().mean())

        exact, off = residual(f), residual(f + torch.tensor([0.5, 0.0]).view(1, 2, 1, 1))
        assert exact < 2.5 and off > 2 * exact, (seed, exact, off)  # bilinear resampling limits "exact"


def test_rendered_pairs_are_deterministic_and_span_the_motion_range():
    renderer = _renderer(size=128)
    a = renderer.render(np.random.default_rng(5))
    b = renderer.render(np.random.default_rng(5))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    peaks = [np.abs(renderer.render(np.random.default_rng(s))[2]).max() for s in range(12)]
    assert min(peaks) < 1.0 and max(peaks) > 3.0


def test_photo_pool_leaves_out_the_demo_clips_photos():
    from motionmag.synth.sources import build_index

    names = PhotoPool().names
    assert not any(n in "".join(names) for n in ("chelsea", "gravel", "brick"))
    assert not {"chelsea", "gravel", "brick"} & set(build_index("demo-heldout")["backgrounds"])


def _tiny_flow_config(tmp_path):
    config = dict(name="tiny", data=dict(crop=128, batch_size=1, num_workers=0, val_pairs=1),
                  train=dict(steps=2, iters=2), log=dict(log_every=1, val_every=2, checkpoint_every=1))
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_flow_training_writes_a_model_the_zoo_loads(tmp_path):
    from motionmag.flow.raft import RAFTFlow

    result = subprocess.run([sys.executable, "-m", "motionmag.cli", "train", "flow", _tiny_flow_config(tmp_path),
                             "-o", tmp_path / "run", "--device", "cpu", "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "run" / "log.csv").read_text()
    assert "val" in log and "epe" in log.splitlines()[0]
    flow = RAFTFlow("small", iters=2)
    before = {k: v.clone() for k, v in flow.net.state_dict().items()}
    flow.load_checkpoint(tmp_path / "run" / "model.pt")  # strict: every parameter filled
    assert any(not torch.equal(before[k], v) for k, v in flow.net.state_dict().items())


@pytest.mark.parametrize("args", [["flow", "--pairs", "x.h5"], ["oh2018", "--data", "x.h5", "--flow-weights", "f.pt"]])
def test_train_refuses_options_of_other_models_in_one_line(args, tmp_path):
    model, *options = args
    result = subprocess.run([sys.executable, "-m", "motionmag.cli", "train", model, _tiny_flow_config(tmp_path), *options,
                             "-o", tmp_path / "run"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "run").exists()


def test_magnify_defaults_to_the_released_weights_and_says_so(tmp_path):
    from motionmag.cli import main

    clip = tmp_path / "clip.mp4"
    assert main(["render", str(clip), "--set", "frames=3", "--set", "width=64", "--set", "height=48"]) == 0
    for method in ("flowmag", "oh2018"):
        out = tmp_path / f"{method}.mp4"
        result = subprocess.run([sys.executable, "-m", "motionmag.cli", "magnify", clip, "--method", method,
                                 "--alpha", "4", "-o", out, "--quiet"], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"{method}-demo" in result.stderr and "demo weights" in result.stderr and out.stat().st_size > 0


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_a_fine_tune_starts_from_the_released_weights(tmp_path):
    from motionmag.methods.oh2018 import load_oh2018
    from motionmag.train.oh2018 import OhTask, load_oh2018_config, train_oh2018

    released = load_oh2018(WeightsStore().require("oh2018-demo"))[0].state_dict()
    config = yaml.safe_load(open(Path(__file__).parents[1] / "config" / "oh2018" / "demo.yaml"))
    config["train"].update(steps=1, lr=1e-12)  # a step that barely moves the weights
    config["data"].update(crop=32, val_samples=1, num_workers=0)
    config["log"] = dict(log_every=1, val_every=1, checkpoint_every=1)
    path = tmp_path / "oh.yaml"
    path.write_text(yaml.safe_dump(config))
    from motionmag.synth.generate import set_settings, write_shard

    recipe = Path(__file__).parents[1] / "config" / "synthetic" / "demo.yaml"
    write_shard(tmp_path / "set.h5", set_settings(dict(recipe=recipe, samples=4, shard_size=4, seed=3)),
                {"kind": "demo", "version": 1, "backgrounds": ["coffee"], "objects": 10}, 0)
    model = train_oh2018(path, tmp_path / "set.h5", tmp_path / "run", progress=False)
    tuned = load_oh2018(model)[0].state_dict()
    assert all(torch.allclose(released[k], tuned[k], atol=1e-6) for k in released)
    assert OhTask(load_oh2018_config(path), tmp_path / "set.h5").config()["train"]["init"] == "oh2018-demo"


def test_linear_attenuates_chroma_as_wu_et_al_do_by_default():
    from motionmag.methods.linear import LinearMagnifier

    assert LinearMagnifier().chroma_attenuation == 0.1
