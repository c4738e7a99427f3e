"""Oh et al. 2018: the network, its losses, training on the shared trainer, the three inference
modes and their temporal filters, and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import h5py
import numpy as np
import pytest
import torch
import yaml
from scipy import signal

from conftest import run_motionmag
from motionmag.synth.clips import DemoClip, DemoRenderer
from motionmag.synth.samples import SyntheticSet
from motionmag.errors import MotionmagError
from motionmag.io import open_writer
from motionmag.methods.filters import make_filter
from motionmag.methods.oh2018 import Oh2018Magnifier, load_oh2018
from motionmag.models.oh2018 import OhMagNet
from motionmag.checkpoint import save_checkpoint
from motionmag.losses import OhLoss, shot_noise

TINY_TRAINING = {
    "name": "tiny",
    "data": {"crop": 32, "batch_size": 4, "num_workers": 0, "val_samples": 2},
    "train": {"steps": 400, "lr": 1.0e-3, "seed": 1},
    "log": {"log_every": 50, "val_every": 100, "checkpoint_every": 50},
}


def run_env() -> dict:
    # the same thread count in every run, so CPU kernels reduce in the same order
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def train_command(config: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "motionmag", "train", "oh2018", str(config), "--data", str(data), "-o", str(out),
            "--device", "cpu", "--quiet", *extra]


def demo_frames(n=6, width=48, height=40, amplitude=0.5) -> list[np.ndarray]:
    clip = DemoClip(width=width, height=height, frames=n, object_motion={"amplitude": amplitude, "frequency": 2.0, "direction": 0})
    return [(f * 255).round().astype(np.uint8) for f in DemoRenderer(DemoClip.from_dict(clip.to_dict())).frames()]


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory) -> Path:
    from motionmag.synth.generate import write_shard
    from motionmag.synth.sources import build_index

    path = tmp_path_factory.mktemp("synthetic") / "tiny.h5"  # smooth (prefilter 1 px), like the test clip
    recipe = {"name": "tiny", "size": 32, "objects": [2, 4], "object_scale": [0.15, 0.35], "max_motion": 1.5, "prefilter_sigma": 1.0,
              "max_magnified": 6, "alpha": {"range": [1, 20], "law": "log-uniform"}}
    assert write_shard(path, dict(recipe=recipe, samples=48), build_index("demo"), 0) == 48
    return path


@pytest.fixture(scope="module")
def trained(synthetic_file, tmp_path_factory) -> Path:
    """A short real training run (400 steps at 32^2, about 45 s on 2 cores)."""
    folder = tmp_path_factory.mktemp("oh_run")
    config = folder / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_TRAINING))
    run = subprocess.run(train_command(config, synthetic_file, folder / "run"), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    return folder / "run" / "model.pt"


@pytest.fixture
def untrained(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "untrained.pt"
    save_checkpoint(dict(kind="oh2018", state_dict=OhMagNet().state_dict(), training={}), path)
    return path


# --- the network --------------------------------------------------------------------------------

def test_network_has_the_official_parameter_count():
    net = OhMagNet()
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(net) == 918_928
    assert (count(net.encoder), count(net.manipulator), count(net.decoder)) == (145_200, 77_824, 695_904)
    assert all(m.bias is None for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)) for m in net.modules())


@pytest.mark.parametrize("size", [(36, 44), (37, 50), (38, 41), (35, 35), (6, 9)])
def test_any_frame_size_keeps_its_size(size):
    net = OhMagNet().eval()
    a, b = torch.rand(2, 1, 3, *size)
    with torch.no_grad():
        assert net(a, b, 5.0).shape == (1, 3, *size)


def test_alpha_1_leaves_the_shape_unchanged():
    """Mb + h((alpha - 1) g(Mb - Ma)) is exactly Mb at alpha 1 (no biases), whatever the weights."""
    net = OhMagNet().eval()
    shape_a, shape_b = torch.randn(2, 2, 32, 8, 8)
    with torch.no_grad():
        assert torch.equal(net.manipulator(shape_a, shape_b, torch.ones(2)), shape_b)
        assert not torch.allclose(net.manipulator(shape_a, shape_b, torch.full((2,), 3.0)), shape_b)


def test_strided_convolutions_pad_like_tensorflow_same():
    """TF 'SAME' at stride 2 pads the bottom and right only: output (0, 0) sees input rows and
    columns 0..2 (torch's symmetric padding would make it -1..1)."""
    from motionmag.models.oh2018 import DownConv

    x = torch.rand(1, 2, 8, 8, requires_grad=True)
    DownConv(2, 1)(x)[0, 0, 0, 0].backward()
    seen = x.grad[0, 0].abs() > 0
    assert seen[:3, :3].all() and not seen[3:].any() and not seen[:, 3:].any()


def test_forward_with_others_returns_every_representation():
    net = OhMagNet().eval()
    frames = torch.rand(2, 4, 3, 16, 20)
    with torch.no_grad():
        result = net(frames[:, 0], frames[:, 1], torch.tensor([1.0, 4.0]), others=frames[:, 2:])
        plain = net(frames[:, 0], frames[:, 1], torch.tensor([1.0, 4.0]))
        texture_c, shape_c = net.encode(frames[:, 2])
    assert result["textures"].shape == (2, 4, 32, 4, 5) and result["shapes"].shape == (2, 4, 32, 8, 10)
    torch.testing.assert_close(result["output"], plain)
    torch.testing.assert_close(result["shapes"][:, 2], shape_c)


# --- losses -------------------------------------------------------------------------------------

def test_loss_forms_against_hand_computed_terms():
    out, target = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.25)
    textures = torch.stack([torch.full((1, 2, 2, 2), v) for v in (0.0, 1.0, 0.5, 3.0)], dim=1)  # A, B, C, target
    shapes = torch.stack([torch.full((1, 2, 2, 2), v) for v in (0.0, 2.0, 1.5, 0.0)], dim=1)
    official = OhLoss("official")(out, target, textures[:, :3], shapes[:, :3])
    # image L1 on the [-1, 1] scale: 2 * 0.25; texture |0.5 - 0|; shape |1.5 - 2|
    assert official["loss_image"].item() == pytest.approx(0.5)
    assert official["loss"].item() == pytest.approx(0.5 + 1.0 * (0.5 + 0.5))
    paper = OhLoss("paper")(out, target, textures, shapes)
    assert paper["loss_texture_amp"].item() == pytest.approx(2.0)  # |texture(B) - texture(target)|
    assert paper["loss"].item() == pytest.approx(0.5 + 0.1 * (0.5 + 0.5 + 2.0))
    with pytest.raises(ValueError):
        OhLoss("perceptual")


def test_shot_noise_has_the_specified_strength():
    """std = strength * sqrt(I) on the 0-255 scale, drawn per sample."""
    frames = torch.full((2, 3, 3, 64, 64), 0.5)
    noisy = shot_noise(frames, torch.tensor([0.3, 0.0]), torch.Generator().manual_seed(0))
    expected = 0.3 * np.sqrt(127.5) / 255
    assert (noisy[0] - 0.5).std().item() == pytest.approx(expected, rel=0.03)
    assert torch.equal(noisy[1], frames[1])


# --- the training data ---------------------------------------------------------------------------

def test_a_file_of_another_kind_is_refused(tmp_path):
    from motionmag.data.pairs import write_pair_set

    pairs = tmp_path / "pairs.h5"
    write_pair_set(pairs, [(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), "x")])
    with pytest.raises(MotionmagError, match="not a synthetic sample file"):
        SyntheticSet(pairs)


# --- training -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_short_training_makes_alpha_1_an_identity(trained, untrained):
    """After 400 steps on a synthetic set the autoencoder path (alpha 1) returns the input closely."""
    frames = demo_frames()

    def error(checkpoint):
        out = list(Oh2018Magnifier(checkpoint).magnify(iter(frames), 1.0))
        return np.mean([np.abs(o.astype(float) - f).mean() for o, f in zip(out, frames)])

    trained_error, untrained_error = error(trained), error(untrained)
    assert trained_error < 10.0, (trained_error, untrained_error)  # mean absolute error on the 0-255 scale
    assert trained_error < 0.6 * untrained_error, (trained_error, untrained_error)
    log = (trained.parent / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,samples,split,loss,loss_image,loss_texture,loss_shape")
    assert (trained.parent / "loss.png").stat().st_size > 0


@pytest.mark.slow
def test_more_steps_resume_to_the_same_weights(synthetic_file, tmp_path):
    """A run stopped at step 4 (its state saved) and resumed to 8 equals a straight 8-step run."""
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY_TRAINING, "train": {**TINY_TRAINING["train"], "steps": 8},
                                      "log": {"log_every": 2, "val_every": 4, "checkpoint_every": 2}}))
    for args in ((tmp_path / "straight",), (tmp_path / "resumed", "--steps", "4"), (tmp_path / "resumed",)):
        run = subprocess.run(train_command(config, synthetic_file, args[0], *args[1:]), capture_output=True, text=True, env=run_env())
        assert run.returncode == 0, run.stderr[-2000:]
    straight = torch.load(tmp_path / "straight" / "model.pt", weights_only=True)["state_dict"]
    resumed = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    assert torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["step"] == 8


@pytest.mark.slow
def test_other_data_of_the_same_size_starts_afresh(synthetic_file, tmp_path):
    """The run's identity includes its data's fingerprint: a regenerated set (another seed, the
    same sample count) is not resumed from the old state."""
    from motionmag.synth.generate import write_shard
    from motionmag.synth.sources import build_index
    from motionmag.synth.samples import SyntheticSet as Set

    other = tmp_path / "other.h5"
    shard = Set(synthetic_file).shards[0]
    recipe = json.loads(h5py.File(shard.path)["/"].attrs["recipe"])
    write_shard(other, dict(recipe=recipe, samples=len(shard), seed=7), build_index("demo"), 0)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY_TRAINING, "train": {**TINY_TRAINING["train"], "steps": 2}}))
    for data in (synthetic_file, synthetic_file, other):
        run = subprocess.run(train_command(config, data, tmp_path / "run"), capture_output=True, text=True, env=run_env())
        assert run.returncode == 0, run.stderr[-2000:]
    assert "starting afresh" in run.stderr and (tmp_path / "run" / "state" / "stale.pt").is_file()


@pytest.mark.slow
def test_ddp_with_two_processes_matches_one_process(synthetic_file, tmp_path):
    """torchrun, 2 processes x 2 samples, averages gradients to what one process with 4 gets
    (no noise, so both see the same inputs; equal up to float rounding)."""
    config = tmp_path / "ddp.yaml"
    config.write_text(yaml.safe_dump({**TINY_TRAINING, "train": {"steps": 3, "shot_noise": 0.0},
                                      "log": {"log_every": 1, "val_every": 3, "checkpoint_every": 3}}))
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "motionmag"]
    two = subprocess.run(torchrun + train_command(config, synthetic_file, tmp_path / "two")[3:], capture_output=True,
                         text=True, env=run_env(), timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run(train_command(config, synthetic_file, tmp_path / "one"), capture_output=True, text=True, env=run_env())
    assert one.returncode == 0, one.stderr[-2000:]
    assert torch.load(tmp_path / "two" / "state" / "latest.pt", weights_only=True)["config"]["world_size"] == 2
    a = torch.load(tmp_path / "one" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "two" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert any(not torch.equal(a[k], OhMagNet().state_dict()[k]) for k in a)


@pytest.mark.slow
def test_multi_node_rendezvous_matches_one_node(synthetic_file, tmp_path):
    """The multi-node form of rule train_multinode (one torchrun per node meeting at a c10d
    rendezvous), with two "nodes" on this machine, trains exactly what one node with two
    processes does."""
    import socket

    config = tmp_path / "ddp.yaml"
    config.write_text(yaml.safe_dump({**TINY_TRAINING, "train": {"steps": 2, "shot_noise": 0.0},
                                      "log": {"log_every": 1, "val_every": 2, "checkpoint_every": 2}}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1"]
    node = [*torchrun, "--nnodes", "2", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}", "--rdzv_id", "test",
            "-m", "motionmag", *train_command(config, synthetic_file, tmp_path / "nodes")[3:]]
    agents = [subprocess.Popen(node, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env()) for _ in range(2)]
    outs = [agent.communicate(timeout=300) for agent in agents]
    assert all(agent.returncode == 0 for agent in agents), outs[0][1][-2000:] + outs[1][1][-2000:]
    standalone = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "motionmag"]
    one = subprocess.run(standalone + train_command(config, synthetic_file, tmp_path / "node")[3:], capture_output=True,
                         text=True, env=run_env(), timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    assert torch.load(tmp_path / "nodes" / "state" / "latest.pt", weights_only=True)["config"]["world_size"] == 2
    a = torch.load(tmp_path / "nodes" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "node" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


@pytest.mark.slow
def test_paper_loss_trains_through_the_target_encoding(synthetic_file, tmp_path):
    config = tmp_path / "paper.yaml"
    config.write_text(yaml.safe_dump({**TINY_TRAINING, "train": {"steps": 2, "loss": "paper"},
                                      "log": {"log_every": 1, "val_every": 2, "checkpoint_every": 2}}))
    run = subprocess.run(train_command(config, synthetic_file, tmp_path / "run"), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    import pandas as pd

    log = pd.read_csv(tmp_path / "run" / "log.csv")
    assert (log["loss_texture_amp"] > 0).all()
    _, training = load_oh2018(tmp_path / "run" / "model.pt")
    assert training["loss"] == "paper"


# --- temporal filters ---------------------------------------------------------------------------

def steady_amplitude(kind, band, fps, frequency, taps=None):
    """Amplitude of the filter's output for a unit sinusoid, away from the start and the end."""
    temporal = make_filter(kind, band, fps, taps)
    t = np.arange(800)
    x = np.sin(2 * np.pi * frequency * t / fps)
    out = [y[0].item() for y in (temporal.step([torch.tensor([v], dtype=torch.float64)]) for v in x) if y is not None]
    out += [y[0].item() for y in temporal.flush()]
    assert len(out) == len(x)
    window = slice(400, 700)
    basis = np.stack([np.sin(2 * np.pi * frequency * t / fps), np.cos(2 * np.pi * frequency * t / fps)], 1)[window]
    coef, *_ = np.linalg.lstsq(basis, np.asarray(out)[window], rcond=None)
    return float(np.hypot(*coef))


@pytest.mark.parametrize("frequency", [0.7, 2.0, 6.0])
def test_butterworth_response_matches_scipys_design(frequency):
    b, a = signal.butter(1, [1.0, 4.0], btype="bandpass", fs=30.0)
    _, h = signal.freqz(b, a, worN=[frequency], fs=30.0)
    assert steady_amplitude("butter", (1.0, 4.0), 30.0, frequency) == pytest.approx(abs(h[0]), abs=2e-3)


@pytest.mark.parametrize("frequency", [0.05, 1.0, 8.0])
def test_difference_of_iir_response_matches_the_original_filter(frequency):
    """Oh et al.'s differenceOfIIR: b = [rh - rl, rl - rh], a = [1, -(2 - rh - rl), (1 - rl)(1 - rh)]."""
    rl, rh = 0.04, 0.4
    _, h = signal.freqz([rh - rl, rl - rh], [1, -(2 - rh - rl), (1 - rl) * (1 - rh)], worN=[frequency], fs=30.0)
    assert steady_amplitude("diff-iir", (rl, rh), 30.0, frequency) == pytest.approx(abs(h[0]), abs=2e-3)


@pytest.mark.parametrize("frequency", [0.5, 3.5, 9.0])
def test_fir_response_matches_scipys_design(frequency):
    """firwin's band-pass, normalised to unit gain at the band's centre (ours also removes the
    window's DC leak, a change of well under 1 % of the response)."""
    taps = signal.firwin(41, [2.0, 5.0], pass_zero=False, fs=30.0, window="hamming")
    _, h = signal.freqz(taps, worN=[frequency, 3.5], fs=30.0)
    assert steady_amplitude("fir", (2.0, 5.0), 30.0, frequency, taps=41) == pytest.approx(abs(h[0]) / abs(h[1]), abs=0.01)


# --- inference ----------------------------------------------------------------------------------

def expected_temporal(net, frames, alpha, filtered_shapes, first=False):
    textures, shapes = net.encode(torch.cat(frames))
    delta = net.manipulator.delta(filtered_shapes, torch.tensor(alpha))
    base = shapes[:1].expand_as(shapes) if first else shapes
    return net.decode(textures, base + delta, frames[0].shape[-2:]).clamp(0, 1)


@pytest.mark.parametrize("kind,reference", [("butter", "frame"), ("fir", "frame"), ("fir", "first")])
def test_temporal_mode_filters_the_shape_maps_over_time(kind, reference, untrained):
    """Our streaming output equals decode(V_t, M_ref + h((alpha - 1) g(y_t))) with y computed over
    the whole clip at once by scipy: the filter runs on the shape maps, aligned with its frame;
    M_ref is the frame's own shape, or frame 0's with reference="first"."""
    frames = [f.astype(np.float32) / 255 for f in demo_frames(n=9, width=24, height=20, amplitude=1.0)]
    tensors = [torch.from_numpy(f).permute(2, 0, 1)[None] for f in frames]
    magnifier = Oh2018Magnifier(untrained, mode="temporal", filter=kind, band=(2.0, 6.0), fps=24.0, taps=5, batch_size=4,
                                reference=reference)
    out = np.stack(list(magnifier.magnify(iter(frames), 8.0)))
    net = magnifier.net
    with torch.no_grad():
        shapes = net.encode(torch.cat(tensors))[1].double().numpy()  # (T, C, h, w)
        if kind == "butter":
            b, a = signal.butter(1, [2.0, 6.0], btype="bandpass", fs=24.0)
            y = signal.lfilter(b, a, shapes, axis=0, zi=signal.lfilter_zi(b, a)[:, None, None, None] * shapes[:1])[0]
        else:
            taps = make_filter("fir", (2.0, 6.0), 24.0, 5).taps
            padded = np.concatenate([shapes[:1]] * 2 + [shapes] + [shapes[-1:]] * 2)
            y = sum(taps[k] * padded[4 - k : 4 - k + len(shapes)] for k in range(5))
        expected = expected_temporal(net, tensors, 8.0, torch.from_numpy(y).float(), first=reference == "first")
    np.testing.assert_allclose(out, expected.permute(0, 2, 3, 1).numpy(), atol=2e-5)


def test_static_and_dynamic_modes_pair_frames_as_specified(untrained):
    frames = [f.astype(np.float32) / 255 for f in demo_frames(n=5, width=24, height=20)]
    tensors = [torch.from_numpy(f).permute(2, 0, 1)[None] for f in frames]
    static = np.stack(list(Oh2018Magnifier(untrained, batch_size=2).magnify(iter(frames), 6.0)))
    dynamic = np.stack(list(Oh2018Magnifier(untrained, mode="dynamic", batch_size=3).magnify(iter(frames), 6.0)))
    net = OhMagNet().eval()
    net.load_state_dict(torch.load(untrained, weights_only=True)["state_dict"])
    with torch.no_grad():
        for t in range(5):
            s = net(tensors[0], tensors[t], 6.0).clamp(0, 1)[0].permute(1, 2, 0).numpy()
            d = net(tensors[max(t - 1, 0)], tensors[t], 6.0).clamp(0, 1)[0].permute(1, 2, 0).numpy()
            np.testing.assert_allclose(static[t], s, atol=2e-5)
            np.testing.assert_allclose(dynamic[t], d, atol=2e-5)


def test_wrong_checkpoint_kind_is_refused(tmp_path):
    path = tmp_path / "flowmag.pt"
    save_checkpoint(dict(kind="flowmag", state_dict={}), path)
    with pytest.raises(MotionmagError, match="not an Oh 2018 model"):
        Oh2018Magnifier(path)


# --- command line -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    with open_writer(path, 24.0) as writer:
        for frame in demo_frames(n=10, width=64, height=48):
            writer.write(frame)
    return path


motionmag = run_motionmag


@pytest.mark.parametrize("mode_args", [
    ["--mode", "static"], ["--mode", "dynamic"], ["--filter", "diff-iir", "--band", "0.04", "0.4"],
    ["--filter", "fir", "--band", "2", "6", "--param", "taps=7"], ["--filter", "butter", "--band", "2", "6"],
], ids=["static", "dynamic", "diff-iir", "fir", "butter"])
def test_cli_modes_write_playable_videos(mode_args, untrained, clip, tmp_path):
    """The plumbing of every mode (a network with random weights: quality is tested above)."""
    out = tmp_path / "out.mp4"
    run = motionmag("magnify", str(clip), "--method", "oh2018", "--checkpoint", str(untrained), "--alpha", "10",
                    "-o", str(out), "-q", *mode_args)
    assert run.returncode == 0, run.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in container.decode(stream)) == 10


@pytest.mark.parametrize("case", {
    "flowmag checkpoint": (["--checkpoint", "{flowmag}"], "not an Oh 2018 model"),
    "bad diff-iir band": (["--checkpoint", "{trained}", "--filter", "diff-iir", "--band", "0.5", "2"], "diff-iir takes two coefficients"),
    "temporal without band": (["--checkpoint", "{trained}", "--mode", "temporal"], "needs a pass band"),
    "tta with oh2018": (["--checkpoint", "{trained}", "--tta-steps", "3"], "--tta-steps: only for --method flowmag"),
    "batch 0": (["--checkpoint", "{trained}", "--batch-size", "0"], "--batch-size must be at least 1"),
    "even fir taps": (["--checkpoint", "{trained}", "--filter", "fir", "--band", "2", "6", "--param", "taps=4"], "odd number of taps"),
    "band with static": (["--checkpoint", "{trained}", "--mode", "static", "--band", "2", "6"], "--band is for --mode temporal"),
}.items(), ids=lambda case: case[0] if isinstance(case, tuple) else str(case))
def test_cli_bad_input_is_one_line_and_exit_2(case, untrained, clip, tmp_path):
    _, (args, message) = case
    flowmag = tmp_path / "fm.pt"
    save_checkpoint(dict(kind="flowmag", state_dict={}), flowmag)
    args = [a.format(trained=untrained, flowmag=flowmag) for a in args]
    out = tmp_path / "out.mp4"
    run = motionmag("magnify", str(clip), "--method", "oh2018", "-o", str(out), "-q", *args)
    assert run.returncode == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not out.exists()


def test_cli_dynamic_mode_is_only_for_oh2018(clip, tmp_path):
    run = motionmag("magnify", str(clip), "--method", "phase", "--mode", "dynamic", "-o", str(tmp_path / "o.mp4"))
    assert run.returncode == 2 and "--mode dynamic is for --method oh2018" in run.stderr


@pytest.mark.slow
def test_cli_train_needs_the_right_data_flag(synthetic_file, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_TRAINING))
    wrong = motionmag("train", "oh2018", str(config), "--pairs", str(synthetic_file), "-o", str(tmp_path / "run"))
    assert wrong.returncode == 2 and "--pairs is not for oh2018" in wrong.stderr
    missing = motionmag("train", "oh2018", str(config), "-o", str(tmp_path / "run"))
    assert missing.returncode == 2 and "needs --data FILE" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**TINY_TRAINING, "train": {"steps": 2, "loss": "perceptual"}}))
    invalid = motionmag("train", "oh2018", str(bad), "--data", str(synthetic_file), "-o", str(tmp_path / "run"))
    assert invalid.returncode == 2 and "config key train.loss" in invalid.stderr
    assert len(invalid.stderr.strip().splitlines()) == 1
