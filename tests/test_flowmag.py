"""FlowMag: the generator, the loss through a frozen flow, training (resume, DDP), inference, TTA."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from scipy import ndimage

from conftest import run_motionmag
from motionmag.data.pairs import PairSet, candidate_pairs, write_pair_set
from motionmag.errors import MotionmagError
from motionmag.flow import get_flow_model
from motionmag.methods.flowmag import FlowMagMagnifier, alpha_passes, fuse_batchnorm, load_flowmag
from motionmag.models.flowmag import FlowMagGenerator, alpha_encoding, alpha_map
from motionmag.checkpoint import save_checkpoint
from motionmag.losses import FlowMagLoss

ROOT = Path(__file__).resolve().parents[1]

TINY_TRAINING = {
    "name": "tiny",
    "model": {"width": 4, "levels": 3},
    "data": {"crop": 32, "batch_size": 2, "num_workers": 1, "val_pairs": 2},
    "train": {"steps": 30, "lr": 1.0e-3, "flow": "lk", "seed": 3},
    "log": {"log_every": 5, "val_every": 10, "checkpoint_every": 5},
}


def textured_frames(n=6, size=(40, 48), seed=0, step=0.4):
    """Smooth random texture translated by ``step`` px per frame (RGB uint8)."""
    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.random((size[0] + 16, size[1] + 16, 3)), (2, 2, 0))
    base = (base - base.min()) / (base.max() - base.min())
    frames = []
    for t in range(n):
        moved = ndimage.shift(base, (0.5 * step * t, step * t, 0), order=3, mode="reflect")[8:-8, 8:-8]
        frames.append(np.clip(moved * 255 + 0.5, 0, 255).astype(np.uint8))
    return frames


@pytest.fixture(scope="module")
def pair_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pairs") / "pairs.h5"
    pairs = []
    for seed in range(4):
        frames = textured_frames(6, seed=seed)
        pairs += [(frames[i], frames[j], f"tex{seed}:{i}-{j}") for i, j in candidate_pairs(6, 1)]
    assert write_pair_set(path, pairs) == 12
    return path


def write_config(folder: Path, **overrides) -> Path:
    config = yaml.safe_load(yaml.safe_dump(TINY_TRAINING))
    for key, value in overrides.items():
        config[key].update(value)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def train_command(config: Path, pairs: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "motionmag", "train", "flowmag", str(config), "--pairs", str(pairs), "-o", str(out),
            "--device", "cpu", "--quiet", *extra]


def run_env() -> dict:
    # the same thread count in every run, so CPU kernels reduce in the same order
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def weights_of(path: Path) -> dict:
    return torch.load(path, weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, pair_file):
    """A tiny model trained uninterrupted (the reference for resume tests; used for inference)."""
    folder = tmp_path_factory.mktemp("trained")
    config = write_config(folder)
    result = subprocess.run(train_command(config, pair_file, folder / "run"), capture_output=True, text=True, env=run_env())
    assert result.returncode == 0, result.stderr[-2000:]
    return folder / "run" / "model.pt", config


# --- the generator ---------------------------------------------------------------------------


def test_generator_has_the_papers_parameter_count():
    assert sum(p.numel() for p in FlowMagGenerator().parameters()) == 17_287_683
    assert sum(p.numel() for p in FlowMagGenerator(width=16).parameters()) < 1_200_000


@pytest.mark.parametrize("size", [(37, 53), (16, 16), (65, 30), (9, 11)])
def test_generator_keeps_odd_sizes(size):
    generator = FlowMagGenerator(width=4).eval()
    frames = torch.rand(3, 3, *size)
    out = generator(frames[:1], frames, torch.tensor([1.0, 4.0, 16.0]))
    assert out.shape == frames.shape
    assert 0 <= out.min() and out.max() <= 1


def test_alpha_encoding_and_mask_blend():
    pe = alpha_encoding(torch.tensor([1.0, 8.0]))
    assert pe.shape == (2, 32)
    wavelengths = torch.logspace(-3, 7, 32, base=2)
    assert torch.allclose(pe[1], torch.sin(2 * 3.141592 * 8.0 / wavelengths), atol=1e-5)
    mask = torch.zeros(1, 1, 4, 5)
    mask[..., 2:, :] = 1
    planes = alpha_map(torch.tensor([8.0]), (4, 5), mask=mask)
    assert torch.allclose(planes[0, :, 0, 0], pe[0]) and torch.allclose(planes[0, :, 3, 4], pe[1])


def test_batchnorm_folding_keeps_the_function():
    generator = FlowMagGenerator(width=8)
    generator.train()
    for _ in range(3):  # non-trivial running statistics
        generator(torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), 4.0)
    generator.eval()
    x = torch.rand(2, 3, 35, 29)
    with torch.no_grad():
        assert torch.allclose(fuse_batchnorm(generator)(x[:1], x, 4.0), generator(x[:1], x, 4.0), atol=1e-5)


# --- the loss --------------------------------------------------------------------------------


def test_one_step_trains_the_generator_and_leaves_the_flow_network_alone():
    torch.manual_seed(0)
    flow = get_flow_model("raft-things", pretrained=False, preset="train")  # BatchNorm in its context encoder
    loss_fn = FlowMagLoss(flow)
    generator = FlowMagGenerator(width=4, levels=3)
    container = torch.nn.ModuleDict(dict(generator=generator, loss=loss_fn))
    container.train()  # what a training loop does to everything it owns
    flow_before = {k: v.clone() for k, v in flow.state_dict().items()}
    generator_before = {k: v.clone() for k, v in generator.state_dict().items()}
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    frames = torch.rand(2, 2, 3, 64, 64)
    alpha = torch.tensor([2.0, 8.0])
    metrics = loss_fn(frames[:, 0], frames[:, 1], generator(frames[:, 0], frames[:, 1], alpha), alpha)
    assert set(metrics) == {"loss", "loss_mag", "loss_color"}
    assert torch.isclose(metrics["loss"], metrics["loss_mag"] + 10 * metrics["loss_color"])
    metrics["loss"].backward()
    optimizer.step()
    assert not flow.training and all(p.grad is None for p in flow.parameters())
    for key, value in flow.state_dict().items():  # weights and BatchNorm running statistics
        assert torch.equal(value, flow_before[key]), key
    changed = [k for k, v in generator.state_dict().items() if not torch.equal(v, generator_before[k])]
    assert any(k.endswith("weight") for k in changed)


def test_loss_is_zero_for_a_perfect_magnification():
    """Identical frames: the input itself is the perfect output at any alpha."""
    loss_fn = FlowMagLoss(get_flow_model("lk", preset="train"))
    frame = torch.from_numpy(textured_frames(1)[0]).permute(2, 0, 1)[None].float() / 255
    metrics = loss_fn(frame, frame, frame.clone(), torch.tensor([8.0]))
    assert float(metrics["loss"]) < 1e-4


def test_loss_refuses_a_non_differentiable_flow():
    with pytest.raises(ValueError, match="not differentiable"):
        FlowMagLoss(get_flow_model("dis"))


# --- training --------------------------------------------------------------------------------


def test_training_writes_model_log_and_plot(trained):
    model_path, _ = trained
    run = model_path.parent
    payload = torch.load(model_path, weights_only=True)
    assert payload["kind"] == "flowmag" and payload["step"] == 30 and payload["training"]["flow"] == "lk"
    log = (run / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,samples,split,loss,loss_mag,loss_color")
    assert sum(",train," in row for row in log) == 6 and sum(",val," in row for row in log) == 3
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert torch.load(run / "state" / "latest.pt", weights_only=True)["step"] == 30


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_resumes_to_the_same_weights(sig, trained, pair_file, tmp_path):
    reference, config = trained
    out = tmp_path / "run"
    # its own process group, signalled as a whole (as scancel and SLURM preemption do)
    process = subprocess.Popen(train_command(config, pair_file, out), env=run_env(), stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    state = out / "state" / "latest.pt"
    deadline = time.time() + 120
    while not state.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert state.exists(), "no checkpoint appeared"
    os.killpg(process.pid, sig)
    _, stderr = process.communicate(timeout=120)
    assert not (out / "model.pt").exists(), "the run finished before it could be interrupted"
    if sig == signal.SIGTERM:  # checkpoints and says so
        assert process.returncode == 143 and "state saved" in stderr
    saved_at = torch.load(state, weights_only=True)["step"]
    assert 5 <= saved_at < 30
    resumed = subprocess.run(train_command(config, pair_file, out), capture_output=True, text=True, env=run_env())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming from step {saved_at}" in resumed.stderr
    expected, got = weights_of(reference), weights_of(out / "model.pt")
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    steps = [int(row.split(",")[0]) for row in (out / "log.csv").read_text().splitlines()[1:] if ",train," in row]
    assert steps == [5, 10, 15, 20, 25, 30]  # the log continues without gaps or repeats


@pytest.mark.slow
def test_ddp_with_two_processes_on_cpu(pair_file, tmp_path):
    config = write_config(tmp_path, train={"steps": 4}, data={"batch_size": 4, "num_workers": 0})
    command = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2",
               "-m", "motionmag", "train", "flowmag", str(config), "--pairs", str(pair_file), "-o", str(tmp_path / "run"),
               "--device", "cpu", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, env=run_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    state = torch.load(tmp_path / "run" / "state" / "latest.pt", weights_only=True)
    assert state["step"] == 4 and state["config"]["world_size"] == 2
    assert (tmp_path / "run" / "model.pt").exists()


@pytest.mark.slow
def test_more_steps_continue_a_finished_run_exactly(trained, pair_file, tmp_path):
    """A run extended with --steps resumes (steps, logging and workers are not part of the state's key)."""
    reference, config = trained
    out = tmp_path / "run"
    first = subprocess.run(train_command(config, pair_file, out, "--steps", "20"), capture_output=True, text=True, env=run_env())
    assert first.returncode == 0, first.stderr[-2000:]
    longer = subprocess.run(train_command(config, pair_file, out), capture_output=True, text=True, env=run_env())
    assert longer.returncode == 0 and "resuming from step 20" in longer.stderr, longer.stderr[-2000:]
    expected, got = weights_of(reference), weights_of(out / "model.pt")
    assert all(torch.equal(expected[k], got[k]) for k in expected)


def test_step_sampler_splits_each_step_over_the_processes():
    from motionmag.train.distributed import Distributed
    from motionmag.train.trainer import StepSampler

    shares = [list(StepSampler(2, 4, 3, Distributed(rank, rank, 2))) for rank in range(2)]
    assert shares[0] == [12, 13, 14, 18, 19, 20] and shares[1] == [15, 16, 17, 21, 22, 23]
    assert sorted(shares[0] + shares[1]) == list(range(12, 24))  # steps 2 and 3 of a global batch of 6


@pytest.mark.slow  # in the slow tier (make test-full), to keep make test within 8 min
def test_bad_training_config_is_one_line(pair_file, tmp_path):
    config = write_config(tmp_path, train={"flow": "dis"})
    result = subprocess.run(train_command(config, pair_file, tmp_path / "run"), capture_output=True, text=True)
    assert result.returncode == 2
    assert "train.flow" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


# --- inference ---------------------------------------------------------------------------------


def test_alpha_passes():
    assert alpha_passes(16, 16) == (1, 16)  # the original rejects 16
    assert alpha_passes(4, 16) == (1, 4)
    passes, per_pass = alpha_passes(40, 16)
    assert passes == 2 and per_pass == pytest.approx(40**0.5)
    assert alpha_passes(256, 16)[0] == 2 and alpha_passes(300, 16)[0] == 3
    with pytest.raises(MotionmagError, match="alpha >= 1"):
        alpha_passes(0.5, 16)


def test_batches_stream_the_same_frames(trained):
    frames = textured_frames(7, size=(37, 45))
    one = list(FlowMagMagnifier(trained[0], batch_size=1).magnify(frames, 6.0))
    three = list(FlowMagMagnifier(trained[0], batch_size=3).magnify(iter(frames), 6.0))
    assert len(one) == len(three) == 7
    assert np.array_equal(one[0], frames[0])  # the reference comes back as it is
    assert max(np.abs(a.astype(int) - b).max() for a, b in zip(one, three)) <= 1
    assert all(f.shape == (37, 45, 3) and f.dtype == np.uint8 for f in three)


def test_alpha_16_and_above_run(trained):
    frames = textured_frames(3)
    for alpha in (16.0, 40.0):
        out = list(FlowMagMagnifier(trained[0]).magnify(frames, alpha))
        assert len(out) == 3


def test_mask_of_zeros_gives_the_input_back(trained):
    frames = textured_frames(5)
    zeros, ones = np.zeros(frames[0].shape[:2], np.float32), np.ones(frames[0].shape[:2], np.float32)
    magnifier = FlowMagMagnifier(trained[0])
    unmasked = list(magnifier.magnify(frames, 8.0))
    for got, original in zip(magnifier.magnify(frames, 8.0, mask=zeros), frames):
        assert np.abs(got.astype(int) - original).max() <= 1  # within 1/255
    for got, expected in zip(magnifier.magnify(frames, 8.0, mask=ones), unmasked):
        assert np.array_equal(got, expected)
    # the paper's mode alone (no output blend): the mask still reaches the network
    raw = FlowMagMagnifier(trained[0], composite=False)
    steered = list(raw.magnify(frames, 8.0, mask=zeros))
    assert any(not np.array_equal(a, b) for a, b in zip(steered[1:], unmasked[1:]))


def test_original_release_checkpoints_load(tmp_path):
    generator = FlowMagGenerator(width=64)
    # key names as in the original's model.py / model_zoo.py (milesial's UNet parts)
    for key in ("generator.down_layers.0.double_conv.0.weight", "generator.down_layers.1.maxpool_conv.1.double_conv.4.running_var",
                "generator.up_layers.0.conv.double_conv.0.weight", "generator.up_layers.4.conv.weight"):
        assert key in generator.state_dict()
    assert generator.state_dict()["generator.down_layers.0.double_conv.0.weight"].shape == (64, 38, 3, 3)
    assert generator.state_dict()["generator.up_layers.0.conv.double_conv.0.weight"].shape == (512, 1024, 3, 3)
    state = {f"module.{k}": v for k, v in generator.state_dict().items()}
    state["module.mm_loss_fn.flow_net.flowNet.fnet.conv1.weight"] = torch.zeros(1)
    save_checkpoint({"state_dict": state, "optimizer_state_dict": {}, "epoch": 140}, tmp_path / "raft_chkpt_00140.pth")
    loaded, training = load_flowmag(tmp_path / "raft_chkpt_00140.pth")
    assert training["flow"] == "raft-things" and training["alpha_high"] == 16
    for key, value in generator.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_test_time_adaptation_updates_the_model(trained):
    frames = textured_frames(6, size=(40, 40))
    magnifier = FlowMagMagnifier(trained[0], tta_batch=2, tta_crop=32)
    before = list(magnifier.magnify(frames, 6.0))
    weights = {k: v.clone() for k, v in magnifier.generator.state_dict().items()}
    losses = magnifier.adapt(iter(frames), steps=3)
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert any(not torch.equal(v, weights[k]) for k, v in magnifier.generator.state_dict().items())
    after = list(magnifier.magnify(frames, 6.0))
    assert any(not np.array_equal(a, b) for a, b in zip(before[1:], after[1:]))


# --- the command line ----------------------------------------------------------------------------


_motionmag = run_motionmag


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from motionmag.io import open_writer

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    with open_writer(path, 24) as writer:
        for frame in textured_frames(5, size=(38, 50)):
            writer.write(frame)
    return path


def test_cli_magnifies_with_flowmag_mask_and_tta(trained, clip, tmp_path):
    np.save(tmp_path / "mask.npy", np.pad(np.ones((18, 20), bool), ((10, 10), (15, 15))))
    out = tmp_path / "out.mp4"
    result = _motionmag("magnify", clip, "--method", "flowmag", "--checkpoint", trained[0], "--alpha", 20,
                        "--mask", tmp_path / "mask.npy", "--feather", 4, "--tta-steps", 1, "--tta-batch", 1, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert "5 frames, 24 fps" in result.stderr and out.stat().st_size > 0


BAD = {
    "mask of the wrong size": (["--mask", "{tmp}/small.npy"], "mask is 10x10 but the video is 50x38"),
    "missing checkpoint": (["--checkpoint", "{tmp}/nope.pt"], "checkpoint not found"),
    "wrong checkpoint kind": (["--checkpoint", "{tmp}/state.pt"], "'oh2018' checkpoint, not a FlowMag model"),
    "not a checkpoint": (["--checkpoint", "{tmp}/junk.pt"], "not a readable torch checkpoint"),
    "alpha below 1": (["--alpha", "0.5"], "alpha >= 1"),
    "temporal band": (["--band", "1", "3"], "against frame 0 only"),
    "zero batch": (["--batch-size", "0"], "--batch-size must be at least 1"),
    "flowmag options on phase": (["--method", "phase"], "--checkpoint: only for --method flowmag"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_cli_bad_input_is_one_line_and_exit_2(case, trained, clip, tmp_path):
    np.save(tmp_path / "small.npy", np.ones((10, 10), bool))
    save_checkpoint({"kind": "oh2018", "state_dict": {}}, tmp_path / "state.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    extra, expected = BAD[case]
    args = ["magnify", clip, "--method", "flowmag", "--checkpoint", trained[0], "--alpha", 4, "-o", tmp_path / "out.mp4"]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = _motionmag(*args, *[a.format(tmp=tmp_path) for a in extra])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_pair_file_round_trip(pair_file):
    pairs = PairSet(pair_file)
    a, b = pairs[3]
    assert a.shape == b.shape == (40, 48, 3) and a.dtype == np.uint8
    assert pairs.source(0) == "tex0:0-1"
    assert candidate_pairs(7, 1) == [(0, 1), (2, 3), (4, 5)] and candidate_pairs(12, 5) == [(0, 5), (2, 7), (4, 9), (6, 11)]
