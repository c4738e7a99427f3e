"""The newer learned magnifiers behind the Magnifier interface and the command line: Axial-MM
(``axial``), EulerMormer (``eulermormer``), STB-VMM (``stbvmm``), on random weights written in each
original's checkpoint layout. Their modes pair frames as the network's two-frame call does, Axial's
temporal mode filters its 64-channel shape, its angle and per-axis factors reach the network as
the original's command line gives them, alpha 1 is each network's identity where it has one, and
bad options end in one line. (The networks themselves: test_newer_models.py.)"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import yaml
from scipy import ndimage, signal

from conftest import run_motionmag
from motionmag.errors import MotionmagError
from motionmag.io import open_writer
from motionmag.methods import get_magnifier, method_spec
from motionmag.methods.axial import AxialMagnifier
from motionmag.methods.eulermormer import EulerMormerMagnifier
from motionmag.methods.filters import make_filter
from motionmag.methods.stbvmm import STBVMMMagnifier
from motionmag.models.axial import build_axial
from motionmag.models.eulermormer import build_eulermormer
from motionmag.models.stbvmm import build_stbvmm

SIZE = (37, 53)  # (H, W): not a multiple of 4 (Axial), odd (EulerMormer), padded to 64 x 64 (STB-VMM)
METHODS = ("axial", "eulermormer", "stbvmm")
ALPHA = 6.0
# The magnifier and the network's own call do the same computation on batches of a different
# make-up, which changes the float rounding of the convolutions and attention sums (measured: up to
# 6e-8 for Axial-MM, 1.1e-6 for EulerMormer); a wrong pairing or factor differs by far more.
ROUNDING = 5e-6


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small tensors: a second thread gains nothing on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Random weights (seed 0) in each original's file layout."""
    folder = tmp_path_factory.mktemp("newer_weights")
    torch.manual_seed(0)
    axial = {f"module.{k}": v for k, v in build_axial().state_dict().items()}  # DataParallel keys, as released
    torch.save({"epoch": 50, "model_state_dict": axial, "optimizer_state_dict": {}, "train_loss": 0.05, "val_loss": 1},
               folder / "axial_mm.tar")  # train.py's dict (a torch.save file, not a tar)
    torch.manual_seed(0)
    torch.save(build_eulermormer().state_dict(), folder / "magnet_epoch99_loss5.38e-02.pth")  # a bare state dict
    torch.manual_seed(0)
    torch.save({"epoch": 50, "state_dict": build_stbvmm().state_dict(), "losses_recon": [0.1], "losses_reg1": [0.01]},
               folder / "ckpt_e49.pth.tar")  # train.py's dict
    return dict(axial=folder / "axial_mm.tar", eulermormer=folder / "magnet_epoch99_loss5.38e-02.pth",
                stbvmm=folder / "ckpt_e49.pth.tar")


def clip_frames(n: int = 5, size=SIZE, amplitude: float = 0.4, seed: int = 0) -> list[np.ndarray]:
    """A smooth random texture swaying sideways by a fraction of a pixel, float32 (H, W, 3) in [0, 1]."""
    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.random((size[0] + 8, size[1] + 8, 3)).astype(np.float32), (2, 2, 0))
    base = (base - base.min()) / (base.max() - base.min())
    return [ndimage.shift(base, (0, amplitude * math.sin(2 * math.pi * t / 5), 0), order=1, mode="reflect")[4:-4, 4:-4]
            for t in range(n)]


def tensors(frames) -> list[torch.Tensor]:
    return [torch.from_numpy(f).permute(2, 0, 1)[None] for f in frames]


def as_frame(t: torch.Tensor) -> np.ndarray:
    return t.clamp(0, 1)[0].permute(1, 2, 0).numpy()


# ---- declarations and the registry -------------------------------------------------------------


def test_the_declarations():
    modes = {name: method_spec(name).modes for name in METHODS}
    assert modes == {"axial": ("static", "dynamic", "temporal"), "eulermormer": ("static", "dynamic"),
                     "stbvmm": ("static", "dynamic")}  # the originals have no temporal mode but Axial's
    for name, weights in zip(METHODS, ("axial-mm", "eulermormer", "stbvmm")):
        spec = method_spec(name)
        assert spec.learned and spec.demo_weights is None and spec.released_weights == weights
        assert spec.options["checkpoint"].flag and spec.options["batch_size"].flag and "amp" in spec.options
    axial = method_spec("axial").options
    assert axial["alpha_across"].default is None and axial["theta"].default == 0.0
    assert method_spec("stbvmm").options["padding"].choices == ("reflect", "black-centre")


def test_variant_names_reach_the_method(checkpoints):
    assert method_spec("axial-foo") is AxialMagnifier.spec and method_spec("stbvmm-paper") is STBVMMMagnifier.spec
    magnifier = get_magnifier("axial-foo", checkpoint=checkpoints["axial"], theta=30, alpha_across=1)
    assert isinstance(magnifier, AxialMagnifier) and magnifier.theta == 30.0 and magnifier.alpha_across == 1
    assert isinstance(get_magnifier("eulermormer-released", checkpoint=str(checkpoints["eulermormer"])), EulerMormerMagnifier)


@pytest.mark.parametrize("settings, message", [
    (dict(theta="abc"), "theta must be a number, got 'abc'"),
    (dict(alpha_across=-1.0), "alpha_across must be at least 0"),
    (dict(mode="temporal", band=(1, 3), fps=10.0, bogus=1), "unknown option 'bogus'"),
    (dict(theta=float("nan")), "theta must be a finite angle"),
])
def test_bad_axial_settings_are_one_line(settings, message, checkpoints):
    with pytest.raises(MotionmagError, match=message) as error:
        get_magnifier("axial", checkpoint=checkpoints["axial"], **settings)
    assert "\n" not in str(error.value)


def test_modes_the_original_lacks_are_refused(checkpoints):
    with pytest.raises(MotionmagError, match="mode must be one of static, dynamic, got 'temporal'"):
        get_magnifier("eulermormer", checkpoint=checkpoints["eulermormer"], mode="temporal")
    with pytest.raises(MotionmagError, match="method stbvmm needs checkpoint"):
        get_magnifier("stbvmm")


# ---- the modes against the network's own two-frame call ----------------------------------------


@pytest.mark.parametrize("name", METHODS)
def test_static_and_dynamic_modes_are_the_networks_two_frame_call(name, checkpoints):
    """Output t = net(frame 0, frame t) in static mode and net(frame t-1, frame t) in dynamic mode
    (frame 0 paired with itself), at any frame size, in batches that do not divide the clip."""
    frames = clip_frames(4)
    static = list(get_magnifier(name, checkpoint=checkpoints[name], batch_size=3).magnify(iter(frames), ALPHA))
    dynamic_magnifier = get_magnifier(name, checkpoint=checkpoints[name], mode="dynamic", batch_size=3)
    dynamic = list(dynamic_magnifier.magnify(iter(frames), ALPHA))
    net, x = dynamic_magnifier.net, tensors(frames)
    with torch.no_grad():
        for t in range(len(frames)):
            assert static[t].shape == frames[t].shape and static[t].dtype == np.float32
            np.testing.assert_allclose(static[t], as_frame(net(x[0], x[t], ALPHA)), rtol=0, atol=ROUNDING)
            np.testing.assert_allclose(dynamic[t], as_frame(net(x[max(t - 1, 0)], x[t], ALPHA)), rtol=0, atol=ROUNDING)
    assert np.abs(static[3] - dynamic[3]).max() > 4 * ROUNDING  # the two modes pair differently (random weights: small)


@pytest.mark.parametrize("name", ["eulermormer", "stbvmm"])
def test_alpha_1_is_the_autoencoded_frame(name, checkpoints):
    """EulerMormer's and STB-VMM's manipulators scale the difference by alpha - 1: at alpha 1 each
    output is the frame as the network's encoder and decoder render it (their identity)."""
    frames = clip_frames(3)
    magnifier = get_magnifier(name, checkpoint=checkpoints[name])
    out = list(magnifier.magnify(iter(frames), 1.0))
    with torch.no_grad():
        for t, x in enumerate(tensors(frames)):
            texture, shape = magnifier._encode(x)  # (STB-VMM: no texture)
            np.testing.assert_allclose(out[t], as_frame(magnifier._decode(texture, shape, x.shape[-2:])), rtol=0, atol=ROUNDING)
    assert np.abs(out[2] - list(magnifier.magnify(iter(frames), ALPHA))[2]).max() > 4 * ROUNDING


def test_axial_alpha_1_is_the_networks_factor_1(checkpoints):
    """Axial-MM multiplies by the factor directly (no alpha - 1) and has biases: there is no exact
    identity; alpha 1 is the network's factor 1 (which the trained network renders at about 1x)."""
    frames = clip_frames(3)
    magnifier = get_magnifier("axial", checkpoint=checkpoints["axial"])
    out = list(magnifier.magnify(iter(frames), 1.0))
    x = tensors(frames)
    with torch.no_grad():
        mag, theta = magnifier.net.factors(1.0, None, 0.0, 1)
        assert mag.flatten().tolist() == [1.0, 1.0] and theta.item() == 0.0
        np.testing.assert_allclose(out[2], as_frame(magnifier.net(x[0], x[2], 1.0)), rtol=0, atol=ROUNDING)


def test_stbvmm_frame_0_is_autoencoded_at_any_alpha(checkpoints):
    """Zero motion is STB-VMM's exact identity: frame 0, paired with itself, comes back as rendered."""
    frames = clip_frames(1)
    magnifier = get_magnifier("stbvmm", checkpoint=checkpoints["stbvmm"])
    (out,) = magnifier.magnify(iter(frames), 50.0)
    (x,) = tensors(frames)
    with torch.no_grad():
        np.testing.assert_allclose(out, as_frame(magnifier.net.decode(magnifier.net.encode(x), SIZE)), rtol=0, atol=ROUNDING)


def test_uint8_frames_come_back_as_uint8_at_their_size(checkpoints):
    frames = [(f * 255).round().astype(np.uint8) for f in clip_frames(2, size=(21, 30))]
    for name in METHODS:
        out = list(get_magnifier(name, checkpoint=checkpoints[name]).magnify(iter(frames), 4.0))
        assert [o.shape for o in out] == [(21, 30, 3)] * 2 and out[1].dtype == np.uint8, name


def test_stbvmm_black_centre_padding_is_the_networks(checkpoints):
    frames = clip_frames(2)
    magnifier = get_magnifier("stbvmm", checkpoint=checkpoints["stbvmm"], padding="black-centre")
    assert magnifier.net.padding == "black-centre"
    out = list(magnifier.magnify(iter(frames), ALPHA))
    x = tensors(frames)
    with torch.no_grad():
        np.testing.assert_allclose(out[1], as_frame(magnifier.net(x[0], x[1], ALPHA)), rtol=0, atol=ROUNDING)
    reflect = list(get_magnifier("stbvmm", checkpoint=checkpoints["stbvmm"]).magnify(iter(frames), ALPHA))
    assert np.abs(reflect[1] - out[1]).max() > 4 * ROUNDING


# ---- Axial: the angle and the per-axis factors ---------------------------------------------------


def test_axial_theta_0_with_equal_factors_is_the_generic_case(checkpoints):
    """theta 0 and alpha_across = alpha is the default, and the authors' generic evaluation's call
    net(a, b, alpha * ones(1, 2, 1, 1), theta 0)."""
    frames = clip_frames(3)
    generic = list(get_magnifier("axial", checkpoint=checkpoints["axial"]).magnify(iter(frames), ALPHA))
    explicit = list(get_magnifier("axial", checkpoint=checkpoints["axial"], theta=0, alpha_across=ALPHA).magnify(iter(frames), ALPHA))
    assert all(np.array_equal(a, b) for a, b in zip(generic, explicit))
    magnifier = get_magnifier("axial", checkpoint=checkpoints["axial"])
    net, x = magnifier.net, tensors(frames)
    with torch.no_grad():
        _, shapes = net.encode(torch.cat([x[0], x[2]]))
        mag = ALPHA * torch.ones(1, 2, 1, 1)  # generic_eval.py's factors
        original = net.decode(net.encode(x[2])[0], net.manipulate(shapes[:1], shapes[1:], mag, torch.zeros(1, 1, 1, 1)), SIZE)
    np.testing.assert_allclose(generic[2], as_frame(original), rtol=0, atol=ROUNDING)


def test_axial_theta_is_in_degrees_and_alpha_across_the_second_factor(checkpoints):
    """The magnify call's alpha is mag[:, 0] (along theta), alpha_across mag[:, 1]; theta is given
    in degrees and reaches the network in radians, as the original's train.py converts it."""
    frames = clip_frames(3)
    magnifier = get_magnifier("axial", checkpoint=checkpoints["axial"], theta=30, alpha_across=2.0)
    out = list(magnifier.magnify(iter(frames), 12.0))
    net, x = magnifier.net, tensors(frames)
    with torch.no_grad():
        mag, theta = magnifier._factors(12.0, 1)
        assert mag.flatten().tolist() == [12.0, 2.0] and theta.item() == pytest.approx(math.pi / 6)
        expected = net(x[0], x[2], 12.0, alpha_across=2.0, theta=math.radians(30))
    np.testing.assert_allclose(out[2], as_frame(expected), rtol=0, atol=ROUNDING)
    generic = list(get_magnifier("axial", checkpoint=checkpoints["axial"]).magnify(iter(frames), 12.0))
    assert np.abs(generic[2] - out[2]).max() > 4 * ROUNDING


@pytest.mark.parametrize("kind, reference", [("butter", "frame"), ("fir", "first")])
def test_axial_temporal_mode_filters_the_64_channel_shape(kind, reference, checkpoints):
    """decode(V_t, M_ref + delta(y_t)) with y the whole clip's concat(shape_x, shape_y) filtered by
    scipy: causal Butterworth from steady state, or the zero-phase FIR with repeated ends decoded on
    frame 0's shape (the original's fir)."""
    frames = clip_frames(7)
    magnifier = get_magnifier("axial", checkpoint=checkpoints["axial"], mode="temporal", filter=kind, band=(1.0, 3.0),
                              fps=8.0, taps=5, batch_size=3, reference=reference, alpha_across=3.0, theta=20)
    out = np.stack(list(magnifier.magnify(iter(frames), ALPHA)))
    net, x = magnifier.net, torch.cat(tensors(frames))
    with torch.no_grad():
        textures, shapes = net.encode(x)
        assert shapes.shape[1] == 64
        s = shapes.double().numpy()
        if kind == "butter":
            b, a = signal.butter(1, [1.0, 3.0], btype="bandpass", fs=8.0)
            y = signal.lfilter(b, a, s, axis=0, zi=signal.lfilter_zi(b, a)[:, None, None, None] * s[:1])[0]
        else:
            taps = make_filter("fir", (1.0, 3.0), 8.0, 5).taps
            padded = np.concatenate([s[:1]] * 2 + [s] + [s[-1:]] * 2)
            y = sum(taps[k] * padded[4 - k : 4 - k + len(s)] for k in range(5))
        mag, theta = net.factors(ALPHA, 3.0, math.radians(20), len(frames))
        base = shapes[:1].expand_as(shapes) if reference == "first" else shapes
        expected = net.decode(textures, base + net.delta(torch.from_numpy(y).float(), mag, theta), SIZE).clamp(0, 1)
    np.testing.assert_allclose(out, expected.permute(0, 2, 3, 1).numpy(), rtol=0, atol=2e-5)


# ---- checkpoints by weights name ------------------------------------------------------------------


@pytest.fixture
def manifest(tmp_path, monkeypatch, checkpoints) -> Path:
    """A weights manifest with the three entries, their files not fetched yet (an empty folder)."""
    entries = {name: dict(file=checkpoints[method].name, url=f"http://127.0.0.1:1/{checkpoints[method].name}", sha256=None,
                          format=method, source="test", licence="MIT")
               for name, method in (("axial-mm", "axial"), ("eulermormer", "eulermormer"), ("stbvmm", "stbvmm"))}
    path = tmp_path / "weights.yaml"
    path.write_text(yaml.safe_dump(entries))
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_MANIFEST", str(path))
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_DIR", str(tmp_path / "weights"))
    return path


def test_a_weights_name_loads_the_fetched_file_and_names_the_fetch_command_until_then(manifest, checkpoints, tmp_path):
    with pytest.raises(MotionmagError, match=r"weights for axial-mm are missing: .*`motionmag flow fetch axial-mm`"):
        AxialMagnifier("axial-mm")
    with pytest.raises(MotionmagError, match="stbvmm in .* holds stbvmm weights, not axial's"):
        AxialMagnifier("stbvmm")
    with pytest.raises(MotionmagError, match=r"nope\.tar: checkpoint not found \(not a file, nor one of axial's weights names in .* \(axial-mm\)\)"):
        AxialMagnifier("nope.tar")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "axial_mm.tar").write_bytes(checkpoints["axial"].read_bytes())
    (tmp_path / "weights" / "axial_mm.tar.sha256").write_text(f"{hashlib.sha256(checkpoints['axial'].read_bytes()).hexdigest()}  axial_mm.tar\n")
    magnifier = AxialMagnifier("axial-mm")
    assert magnifier.checkpoint == tmp_path / "weights" / "axial_mm.tar"


def test_a_checkpoint_of_another_network_is_one_line(checkpoints):
    with pytest.raises(MotionmagError, match="loads no parameter of AxialMagNet") as error:
        AxialMagnifier(checkpoints["eulermormer"])
    assert "\n" not in str(error.value)


# ---- the command line -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("newer_clip") / "clip.mp4"
    with open_writer(path, 8.0) as writer:
        for frame in clip_frames(6, size=(40, 48), amplitude=0.8):
            writer.write((frame * 255).round().astype(np.uint8))
    return path


@pytest.mark.parametrize("args", [
    ["--method", "axial", "--mode", "static", "--param", "theta=45", "--param", "alpha_across=1"],
    ["--method", "axial", "--filter", "butter", "--band", "1", "3", "--batch-size", "2"],
    ["--method", "eulermormer", "--mode", "dynamic"],
    ["--method", "stbvmm", "--param", "padding=black-centre"],
], ids=["axial-static", "axial-temporal", "eulermormer-dynamic", "stbvmm-static"])
def test_cli_writes_a_playable_video(args, checkpoints, clip, tmp_path):
    out = tmp_path / "out.mp4"
    method = args[1]
    run = run_motionmag("magnify", clip, "--checkpoint", checkpoints[method], "--alpha", "10", "-o", out, "-q", *args)
    assert run.returncode == 0, run.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (48, 40)
        assert sum(1 for _ in container.decode(stream)) == 6


CLI_BAD = {
    "no checkpoint": (["--method", "axial"], "--method axial needs --checkpoint (no demo weights exist for it); "
                      "the authors' are fetched with `motionmag flow fetch axial-mm`, then --checkpoint axial-mm"),
    "weights not fetched": (["--method", "axial", "--checkpoint", "axial-mm"], "motionmag flow fetch axial-mm"),
    "theta not a number": (["--method", "axial", "--checkpoint", "{axial}", "--param", "theta=abc"],
                           "method axial: theta must be a number, got 'abc'"),
    "unknown param": (["--method", "eulermormer", "--checkpoint", "{eulermormer}", "--param", "theta=10"],
                      "method eulermormer: unknown option 'theta'; eulermormer takes checkpoint, mode"),
    "temporal on eulermormer": (["--method", "eulermormer", "--checkpoint", "{eulermormer}", "--band", "1", "3"],
                                "--mode temporal is for --method linear or oh2018 or phase or axial; eulermormer has static and dynamic"),
    "bad padding": (["--method", "stbvmm", "--checkpoint", "{stbvmm}", "--param", "padding=zeros"],
                    "padding must be one of reflect, black-centre"),
    "negative alpha_across": (["--method", "axial", "--checkpoint", "{axial}", "--param", "alpha_across=-2"],
                              "alpha_across must be at least 0"),
    "another network's file": (["--method", "stbvmm", "--checkpoint", "{axial}"], "loads no parameter of STBVMMNet"),
    "tta on axial": (["--method", "axial", "--checkpoint", "{axial}", "--tta-steps", "3"], "--tta-steps: only for --method flowmag"),
}


@pytest.mark.parametrize("case", CLI_BAD, ids=list(CLI_BAD))
def test_cli_bad_input_is_one_line_and_exit_2(case, checkpoints, clip, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_DIR", str(tmp_path / "weights"))  # nothing fetched
    args, message = CLI_BAD[case]
    out = tmp_path / "out.mp4"
    run = run_motionmag("magnify", clip, "-o", out, "-q", *[a.format(**checkpoints) for a in args])
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1 and message in lines[0], run.stderr
    assert not out.exists()


def test_flow_list_shows_the_magnifier_weights_and_fetch_gets_them_by_name(http_server, manifest, checkpoints, clip, tmp_path):
    listing = run_motionmag("flow", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["axial-mm"]["method"] == "axial" and rows["axial-mm"]["present"] is False
    assert "--method axial --checkpoint axial-mm" in rows["axial-mm"]["summary"]
    assert rows["raft-things"]["method"] is None  # a flow model
    table = run_motionmag("flow", "list").stdout
    assert "magnifier weights" in table and "stbvmm" in table

    payload = checkpoints["eulermormer"].read_bytes()
    http_server.files["/em.pth"] = payload
    entries = yaml.safe_load(manifest.read_text())
    entries["eulermormer"]["url"] = http_server.url("/em.pth")
    manifest.write_text(yaml.safe_dump(entries))
    assert run_motionmag("flow", "fetch", "-q").returncode == 0  # every flow model: none in this manifest
    assert not (tmp_path / "weights" / checkpoints["eulermormer"].name).exists()
    fetched = run_motionmag("flow", "fetch", "eulermormer", "-q")
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "weights" / checkpoints["eulermormer"].name).read_bytes() == payload
    out = tmp_path / "out.mp4"
    run = run_motionmag("magnify", clip, "--method", "eulermormer", "--checkpoint", "eulermormer", "-o", out, "-q")
    assert run.returncode == 0 and out.is_file(), run.stderr


# ---- the released weights (only where they have been fetched) ------------------------------------


@pytest.mark.slow
def test_released_axial_weights_magnify_the_axis_they_are_given():
    """With the authors' axial_mm.tar: a texture translated by 0.2 px along x comes out moved about
    alpha x 0.2 px along x with (alpha, alpha_across) = (10, 1) at theta 0, and about 0.2 px with
    the factors swapped; likewise along y at theta 90 (docs/newer_methods.md#alpha-conventions-settled)."""
    from motionmag.flow import get_flow_model
    from motionmag.flow.weights import WeightsStore

    store = WeightsStore()
    if "axial-mm" not in store.entries or not store.present("axial-mm"):
        pytest.skip("the authors' axial_mm.tar has not been fetched (motionmag flow fetch axial-mm)")
    flow = get_flow_model("lk")
    size, shift = (192, 192), 0.2

    def measured(theta: float, along: float, across: float, direction: tuple[float, float]) -> np.ndarray:
        rng = np.random.default_rng(1)
        base = ndimage.gaussian_filter(rng.random((size[0] + 16, size[1] + 16, 3)).astype(np.float32), (3, 3, 0))
        base = (base - base.min()) / (base.max() - base.min())
        moved = ndimage.shift(base, (direction[1] * shift, direction[0] * shift, 0), order=3, mode="reflect")
        frames = [base[8:-8, 8:-8], moved[8:-8, 8:-8]]
        out = list(AxialMagnifier("axial-mm", alpha_across=across, theta=theta).magnify(iter(frames), along))
        with torch.no_grad():
            a, b = (torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1)[None] for f in out)
            return flow(a, b)[0, :, 32:-32, 32:-32].mean((1, 2)).numpy()  # (x, y) px, output 0 -> output 1

    x_only = measured(0.0, 10.0, 1.0, (1, 0))
    assert x_only[0] == pytest.approx(10 * shift, rel=0.3) and abs(x_only[1]) < 0.5 * shift
    assert measured(0.0, 1.0, 10.0, (1, 0))[0] == pytest.approx(shift, abs=0.5 * shift)
    assert measured(90.0, 10.0, 1.0, (0, 1))[1] == pytest.approx(10 * shift, rel=0.3)
