"""The flow zoo: every model offline with random weights, gradients, freezing, presets, and
checkpoints in each original format through the manifest path."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from motionmag.errors import MotionmagError
from motionmag.flow import flow_spec, get_flow_model, list_flow_models
from motionmag.flow.raft import princeton_to_torchvision
from motionmag.flow.weights import WeightsStore, load_manifest
from motionmag.io.download import sha256sum

FIXTURES = Path(__file__).parent / "fixtures"
# key names and shapes of princeton-vl's raft-things.pth / raft-small.pth (saved from
# nn.DataParallel), dumped from the original module definitions
PRINCETON_KEYS = json.loads((FIXTURES / "princeton_raft_keys.json").read_text())
NETWORKS = [name for name in list_flow_models() if flow_spec(name).needs_weights]
HAVE_ZOO = importlib.util.find_spec("ptlflow") is not None  # `make test` installs it


def models(names):
    """Parameters; the ptlflow ones are skipped where the zoo extra is not installed."""
    skip = pytest.mark.skipif(not HAVE_ZOO, reason="needs the zoo extra (ptlflow)")
    return [pytest.param(n, marks=skip) if flow_spec(n).extra == "zoo" else n for n in names]


DIFFERENTIABLE = models([name for name in list_flow_models() if flow_spec(name).differentiable])


@pytest.fixture(scope="module")
def pair():
    torch.manual_seed(0)
    return torch.rand(2, 3, 97, 131), torch.rand(2, 3, 97, 131)


def build(name: str, seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    return get_flow_model(name, pretrained=False, preset="train", **kwargs)


def test_every_model_of_the_design_is_registered():
    expected = {"raft-things", "raft-sintel", "raft-small", "gmflow-things", "gmflow-sintel", "pwcnet", "arflow-kitti",
                "dis", "farneback", "lk", "lk-normalized"}
    assert set(list_flow_models()) == expected


def test_normalized_lk_is_blind_to_brightness_and_contrast_changes_and_still_sees_motion():
    """What FlowMag's demo weights learn through: a relighting (x1.15 plus a ramp) is no motion
    to it, where plain LK reads pixels of motion; a true 1 px shift is still measured."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    texture = ndimage.gaussian_filter(rng.random((96, 128)), 2.0)
    texture = (texture - texture.min()) / np.ptp(texture)
    frame = torch.from_numpy(np.repeat(texture[None, None], 3, axis=1)).float()
    relit = (frame * 1.15 + torch.linspace(0, 0.15, 128).view(1, 1, 1, -1)).clamp(0, 1)
    shifted = torch.from_numpy(np.repeat(ndimage.shift(texture, (0, 1.0), order=3, mode="nearest")[None, None], 3, axis=1)).float()
    inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))
    normalized, plain = build("lk-normalized"), build("lk")
    assert normalized(frame, relit)[inner].norm(dim=1).mean() < 0.1
    assert plain(frame, relit)[inner].norm(dim=1).mean() > 1.0
    flow = get_flow_model("lk-normalized")(frame, shifted)[inner]
    assert abs(float(flow[:, 0].mean()) - 1.0) < 0.1 and abs(float(flow[:, 1].mean())) < 0.05


@pytest.mark.parametrize("name", models(list_flow_models()))
def test_builds_offline_and_returns_flow_for_an_odd_size(name, pair):
    model = build(name)
    with torch.no_grad():
        flow = model(*pair)
        single = model(pair[0][:1], pair[1][:1])
    assert flow.shape == (2, 2, 97, 131) and flow.dtype == torch.float32
    assert torch.isfinite(flow).all()
    # a batch is independent samples: the first one alone gives the same flow
    assert torch.allclose(single, flow[:1], atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_reach_both_inputs_and_no_parameter(name, pair):
    model = build(name)
    img0, img1 = (x.clone().requires_grad_(True) for x in pair)
    model(img0, img1).abs().mean().backward()
    for grad in (img0.grad, img1.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())


def test_frozen_means_eval_mode_even_inside_a_training_module(pair):
    model = build("raft-things")
    trainer = nn.ModuleDict({"generator": nn.Conv2d(3, 3, 1), "flow": model})
    trainer.train()  # what a training loop does to everything it holds
    assert trainer["generator"].training
    assert not any(m.training for m in model.modules())
    batch_norm = model.net.context_encoder.convnormrelu[1]
    before = batch_norm.running_mean.clone()
    model(*pair)
    assert torch.equal(batch_norm.running_mean, before)  # statistics do not drift


def test_flowmag_presets_and_options():
    assert build("raft-things").iters == 5  # preset train
    assert get_flow_model("raft-small", pretrained=False).iters == 20  # eval is the default
    assert get_flow_model("raft-small", pretrained=False, iters=7).iters == 7
    with pytest.raises(MotionmagError, match="unknown flow preset"):
        get_flow_model("raft-small", pretrained=False, preset="fast")
    with pytest.raises(MotionmagError, match="has no option iters"):
        get_flow_model("dis", iters=5)
    with pytest.raises(MotionmagError, match="weight-free"):
        get_flow_model("dis", weights="x.pth")


def test_inputs_must_be_float_and_any_float_precision_is_taken(pair):
    model = build("raft-small")
    with pytest.raises(MotionmagError, match="float images"):
        model((pair[0] * 255).to(torch.uint8), (pair[1] * 255).to(torch.uint8))
    with torch.no_grad():
        full = model(*pair)
        half = model(pair[0].bfloat16(), pair[1].bfloat16())  # e.g. a generator's output under amp
    assert half.dtype == torch.float32 and (half - full).abs().mean() < 0.05 * full.abs().mean() + 1e-3


# a hand-written sample of the renaming (what a same-shape swap would break)
PRINCETON_PAIRS = {
    "fnet.conv1.weight": "feature_encoder.convnormrelu.0.weight",
    "cnet.norm1.running_var": "context_encoder.convnormrelu.1.running_var",
    "cnet.conv2.bias": "context_encoder.conv.bias",
    "cnet.layer2.0.norm2.weight": "context_encoder.layer2.0.convnormrelu2.1.weight",
    "cnet.layer2.0.downsample.1.weight": "context_encoder.layer2.0.downsample.1.weight",
    "cnet.layer3.1.conv1.weight": "context_encoder.layer3.1.convnormrelu1.0.weight",
    "update_block.encoder.convc2.weight": "update_block.motion_encoder.convcorr2.0.weight",
    "update_block.encoder.convf1.bias": "update_block.motion_encoder.convflow1.0.bias",
    "update_block.encoder.conv.weight": "update_block.motion_encoder.conv.0.weight",
    "update_block.gru.convz2.weight": "update_block.recurrent_block.convgru2.convz.weight",
    "update_block.gru.convq1.bias": "update_block.recurrent_block.convgru1.convq.bias",
    "update_block.flow_head.conv2.weight": "update_block.flow_head.conv2.weight",
    "update_block.mask.0.weight": "mask_predictor.convrelu.0.weight",
    "update_block.mask.2.bias": "mask_predictor.conv.bias",
}
PRINCETON_SMALL_PAIRS = {
    "fnet.layer2.0.conv3.weight": "feature_encoder.layer2.0.convnormrelu3.0.weight",
    "update_block.gru.convr.weight": "update_block.recurrent_block.convgru1.convr.weight",
    "update_block.encoder.convc1.weight": "update_block.motion_encoder.convcorr1.0.weight",
}


def test_princeton_names_map_to_the_right_torchvision_modules():
    for pairs, small in ((PRINCETON_PAIRS, False), (PRINCETON_SMALL_PAIRS, True)):
        for original, expected in pairs.items():
            assert princeton_to_torchvision({original: None}, small) == {expected: None}
    assert princeton_to_torchvision({"cnet.layer2.0.norm3.weight": None}, small=False) == {}  # = downsample.1
    assert princeton_to_torchvision({"fnet.layer2.0.norm4.weight": None}, small=True) == {}


def test_princeton_key_names_convert_exactly_to_torchvision():
    for name, model in (("raft", "raft-things"), ("raft-small", "raft-small")):
        princeton = {k.removeprefix("module."): torch.empty(shape) for k, shape in PRINCETON_KEYS[name].items()}
        converted = princeton_to_torchvision(princeton, small=name == "raft-small")
        target = build(model).net.state_dict()
        assert set(converted) == set(target)
        assert all(converted[k].shape == target[k].shape for k in target)


# ---- checkpoints in each original format, loaded through a manifest --------------------------


def princeton_checkpoint(state: dict, small: bool) -> dict:
    """torchvision RAFT weights laid out as princeton-vl's file: original names, module. prefixes,
    and the residual blocks' downsampling norm stored twice."""
    checkpoint = {}
    for key in PRINCETON_KEYS["raft-small" if small else "raft"]:
        bare = key.removeprefix("module.")
        converted = princeton_to_torchvision({bare: None}, small) or princeton_to_torchvision(
            {re.sub(r"\.norm[34]\.", ".downsample.1.", bare): None}, small
        )
        (target,) = converted
        checkpoint[key] = state[target]
    return checkpoint


def saved_as(fmt: str, state: dict, small: bool = False) -> dict:
    return {
        "torchvision": lambda: state,
        "princeton-raft": lambda: princeton_checkpoint(state, small),
        "ptlflow": lambda: {"state_dict": state, "hyper_parameters": {"train_size": [368, 496]}},
        "gmflow": lambda: {"model": state, "step": 800000, "epoch": 100},
        "arflow": lambda: {"epoch": 140, "state_dict": state},
    }[fmt]()


def make_store(tmp_path: Path, name: str, checkpoint: dict, sha256: str | None = "auto", fmt: str = "torchvision"):
    path = tmp_path / f"{name}.pth"
    torch.save(checkpoint, path)
    digest = sha256sum(path) if sha256 == "auto" else sha256
    entry = dict(file=path.name, url=f"http://127.0.0.1:9/{path.name}", sha256=digest, format=fmt,
                 source="test", licence="test")
    (tmp_path / "weights.yaml").write_text(yaml.safe_dump({name: entry}))
    return WeightsStore(tmp_path / "weights.yaml", tmp_path), path


def randomise_buffers(module: nn.Module) -> None:
    """Non-default BatchNorm statistics, so that a buffer left unloaded would show."""
    for buffer_name, buffer in module.named_buffers():
        if buffer.is_floating_point():
            buffer.copy_(torch.rand_like(buffer) + 0.5 if "var" in buffer_name else torch.randn_like(buffer) * 0.1)


ZOO = pytest.mark.skipif(not HAVE_ZOO, reason="needs the zoo extra (ptlflow)")


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("raft-things", "torchvision"),
        ("raft-things", "princeton-raft"),
        ("raft-small", "princeton-raft"),
        pytest.param("gmflow-things", "ptlflow", marks=ZOO),
        pytest.param("gmflow-sintel", "gmflow", marks=ZOO),
        pytest.param("pwcnet", "ptlflow", marks=ZOO),
        ("arflow-kitti", "arflow"),
    ],
)
def test_original_formats_round_trip_through_the_manifest(name, fmt, pair, tmp_path):
    source = build(name, seed=1)
    randomise_buffers(source)
    store, _ = make_store(tmp_path, name, saved_as(fmt, source.net.state_dict(), small=name == "raft-small"), fmt=fmt)
    loaded = get_flow_model(name, preset="train", store=store)
    fresh = build(name, seed=2)
    with torch.no_grad():
        expected = source(*pair)
        assert torch.equal(loaded(*pair), expected)
        assert not torch.allclose(fresh(*pair), expected)  # the weights did change the output


def test_a_wrong_hash_is_refused(tmp_path):
    store, _ = make_store(tmp_path, "raft-small", build("raft-small").net.state_dict(), sha256="0123abcd")
    with pytest.raises(MotionmagError, match="does not match"):
        get_flow_model("raft-small", store=store)


def test_a_corrupt_file_is_refused(tmp_path):
    store, path = make_store(tmp_path, "raft-small", build("raft-small").net.state_dict())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    with pytest.raises(MotionmagError, match="does not match"):
        get_flow_model("raft-small", store=store)
    store, path = make_store(tmp_path, "raft-small", {}, sha256=None)
    path.write_bytes(b"\x00garbage" * 100)  # no digest to check: torch.load must still refuse it
    with pytest.raises(MotionmagError, match="not a readable PyTorch checkpoint"):
        get_flow_model("raft-small", store=store)


def test_a_checkpoint_for_another_model_or_with_missing_keys_is_an_error(tmp_path):
    store, _ = make_store(tmp_path, "raft-things", build("arflow-kitti").net.state_dict())
    with pytest.raises(MotionmagError, match="loads no parameter"):
        get_flow_model("raft-things", store=store)
    state = build("raft-things").net.state_dict()
    state.pop("mask_predictor.conv.weight")
    store, _ = make_store(tmp_path, "raft-things", state)
    with pytest.raises(MotionmagError, match=r"1 missing \(e.g. mask_predictor.conv.weight\)"):
        get_flow_model("raft-things", store=store)


def test_a_missing_file_names_the_file_its_place_and_the_fetch_command(tmp_path):
    store, path = make_store(tmp_path, "arflow-kitti", {})
    path.unlink()
    with pytest.raises(MotionmagError) as error:
        get_flow_model("arflow-kitti", store=store)
    message = str(error.value)
    assert "arflow-kitti.pth" in message and str(tmp_path) in message and "motionmag flow fetch arflow-kitti" in message
    assert "\n" not in message


def test_the_repository_manifest_lists_every_network_checkpoint():
    entries = load_manifest(Path(__file__).resolve().parents[1] / "config" / "weights.yaml")
    magnifiers = ("flowmag", "motionmag", "axial", "eulermormer", "stbvmm")
    flows = {name for name, entry in entries.items() if entry.format not in magnifiers}
    assert flows == set(NETWORKS)
    # the rest: FlowMag's released generators, the demo weights made here (methods.<...>.checkpoint)
    # and the newer magnifiers' released networks (magnify --checkpoint NAME)
    assert set(entries) - flows == {"flowmag-raft", "flowmag-arflow", "flowmag-demo", "oh2018-demo", "axial-mm", "eulermormer",
                                    "stbvmm"}
    for entry in entries.values():
        assert entry.licence and entry.source
        if entry.bundled:  # ships in resources/release/, verified by its full digest
            assert entry.file.endswith(".pt") and len(entry.sha256) == 64 and not entry.url
        else:
            assert entry.url.startswith("https://") and entry.file.endswith((".pth", ".ckpt", ".tar"))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"file": "a.pth"}, "missing url"),
        ({"sha256": "xyz"}, "sha256 must be"),
        ({"format": "onnx"}, "format 'onnx'"),
        ({"file": "../a.pth"}, "plain file name"),
        ({"colour": "red"}, "unknown field colour"),
    ],
)
def test_manifest_mistakes_are_one_line_errors(tmp_path, entry, message):
    good = dict(file="a.pth", url="https://x/a.pth", sha256="0123abcd", format="arflow", source="s", licence="l")
    bad = {**good, **entry}
    if "url" not in entry and entry.get("file") == "a.pth":
        bad.pop("url")
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"arflow-kitti": bad}))
    with pytest.raises(MotionmagError, match=message):
        load_manifest(tmp_path / "w.yaml")


def test_without_the_zoo_extra_the_ptlflow_models_explain_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ptlflow", None)  # as if ptlflow were not installed
    with pytest.raises(MotionmagError, match=r"pip install 'motionmag\[zoo\]'"):
        get_flow_model("gmflow-things", pretrained=False)
    assert get_flow_model("raft-small", pretrained=False) is not None  # the core needs no ptlflow


def test_an_unpublished_digest_is_pinned_on_first_fetch_and_checked_after(http_server, tmp_path):
    payload = (tmp_path / "src.pth")
    torch.save(build("arflow-kitti").net.state_dict(), payload)
    http_server.files["/pwclite_ar.tar"] = payload.read_bytes()
    entry = dict(file="pwclite_ar.tar", url=http_server.url("/pwclite_ar.tar"), sha256=None, format="arflow",
                 source="test", licence="MIT")
    (tmp_path / "weights.yaml").write_text(yaml.safe_dump({"arflow-kitti": entry}))
    store = WeightsStore(tmp_path / "weights.yaml", tmp_path / "weights")
    path = store.fetch("arflow-kitti", progress=False)
    assert (tmp_path / "weights" / "pwclite_ar.tar.sha256").read_text().split()[0] == sha256sum(path)
    get_flow_model("arflow-kitti", store=store)  # verifies against the pin, loads
    path.write_bytes(path.read_bytes()[:-100] + bytes(100))
    with pytest.raises(MotionmagError, match="does not match"):
        get_flow_model("arflow-kitti", store=store)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="bf16 autocast is a CUDA feature")
@pytest.mark.parametrize("name", ["raft-small", "arflow-kitti"])
def test_amp_on_cuda_stays_close_to_float32(name):
    torch.manual_seed(0)
    a, b = torch.rand(2, 1, 3, 128, 160, device="cuda").unbind(0)
    full = build(name, device="cuda")
    fast = build(name, device="cuda", amp=True)
    with torch.no_grad():
        difference = (fast(a, b) - full(a, b)).abs().mean() / (full(a, b).abs().mean() + 1e-6)
    assert difference < 0.05
