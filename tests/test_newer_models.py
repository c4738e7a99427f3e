"""The newer magnification networks (Axial-MM, EulerMormer, STB-VMM): sizes and state-dict keys
as the originals', their checkpoint layouts load strictly, gradients reach every parameter, any
frame size comes back at its own size, and the manipulators' documented special cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from motionmag.errors import MotionmagError
from motionmag.models.axial import AxialMagNet, build_axial, load_axial_checkpoint
from motionmag.models.eulermormer import EulerMormerNet, build_eulermormer, load_eulermormer_checkpoint
from motionmag.models.stbvmm import DIV2K_MEAN, STBVMMNet, build_stbvmm, load_stbvmm_checkpoint, shifted_window_mask

ODD = (37, 53)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def frames(batch: int, size=ODD, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random frame and the same frame shifted by a fraction of a pixel (in [0, 1])."""
    g = torch.Generator().manual_seed(seed)
    a = torch.nn.functional.interpolate(torch.rand(batch, 3, size[0] // 4 + 2, size[1] // 4 + 2, generator=g),
                                        size=(size[0] + 1, size[1] + 1), mode="bicubic", align_corners=False).clamp(0, 1)
    return a[..., :-1, :-1].contiguous(), (0.7 * a[..., :-1, :-1] + 0.3 * a[..., 1:, 1:]).contiguous()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small tensors: a second thread gains nothing, and on a busy 2-core machine its spin-waiting
    made this file 6 times slower (80 s instead of 13 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def axial() -> AxialMagNet:
    torch.manual_seed(0)
    return build_axial().eval()


@pytest.fixture(scope="module")
def euler() -> EulerMormerNet:
    torch.manual_seed(0)
    return build_eulermormer().eval()


@pytest.fixture(scope="module")
def stb() -> STBVMMNet:
    torch.manual_seed(0)
    return build_stbvmm().eval()


@pytest.fixture(scope="module")
def small_stb() -> STBVMMNet:
    """The same code at a fraction of the cost (2 stages of 2 blocks, width 24), for the plumbing tests."""
    torch.manual_seed(0)
    return build_stbvmm(embed_dim=24, depths=(2, 2), num_heads=(2, 2)).eval()


# -- sizes ---------------------------------------------------------------------------------------
def test_axial_parameter_count(axial):
    assert count(axial) == 982_595
    assert (count(axial.encoder), count(axial.decoder), count(axial.res_manipulator)) == (130_464, 835_619, 16_512)
    assert not list(axial.buffers())


def test_eulermormer_parameter_count(euler):
    assert count(euler) == 1_512_056
    assert (count(euler.encoder), count(euler.manipulator), count(euler.decoder)) == (157_600, 82_856, 1_271_600)
    assert not list(euler.buffers())


def test_stbvmm_parameter_count(stb):
    assert count(stb) == 31_335_411
    assert count(stb.layers_dfe) == count(stb.layers_mmsa) == 12_733_272
    assert count(stb.manipulator) == 2_801_664
    assert count(stb.upsample_conv) == 2_359_488
    assert count(stb.conv_after_body_dfe) == count(stb.conv_after_body_mmsa) == 331_968
    assert (count(stb.conv_first), count(stb.conv_last)) == (37_056, 5_187)
    norms = (stb.patch_embed_dfe.norm, stb.patch_embed_mmsa.norm, stb.norm_dfe, stb.norm_mmsa)
    assert sum(count(n) for n in norms) == 1_536


# -- state-dict keys, written out from the originals' module names ---------------------------------
def conv_keys(*names: str, bias: bool = True) -> set[str]:
    return {f"{n}.{p}" for n in names for p in (("weight", "bias") if bias else ("weight",))}


def res_keys(prefix: str, n: int) -> list[str]:
    return [f"{prefix}.{i}.conv{j}" for i in range(n) for j in (1, 2)]


def test_axial_state_dict_keys(axial):
    expected = conv_keys(
        "encoder.res_encoder.conv1", "encoder.res_encoder.conv2", *res_keys("encoder.res_encoder.residual", 3),
        "encoder.conv_tex", "encoder.conv_sha", *res_keys("encoder.texture_resblk", 2), *res_keys("encoder.shape_resblk", 3),
        "decoder.conv1", "decoder.conv2", "decoder.conv_tex_aft_upsample", *res_keys("decoder.res_decoder.residual", 10),
        "decoder.res_decoder.conv_up_sample", "decoder.res_decoder.conv1", "decoder.res_decoder.conv2",
        "res_manipulator.conv1", "res_manipulator.conv2", *res_keys("res_manipulator.residual", 1))
    state = axial.state_dict()
    assert len(state) == 100 and set(state) == expected
    # the axial convs are (k, 1): along H only
    assert state["encoder.conv_sha.weight"].shape == (32, 32, 3, 1)
    assert state["res_manipulator.conv1.weight"].shape == (32, 32, 7, 1)
    assert state["encoder.shape_resblk.2.conv2.weight"].shape == (32, 32, 3, 1)


def euler_block_keys(prefix: str) -> set[str]:
    return {f"{prefix}.{k}" for k in (
        "norm1.body.weight", "norm1.body.bias", "attn.temperature", "attn.qkv.weight", "attn.qkv_dwconv.weight",
        "attn.project_out.weight", "norm2.body.weight", "norm2.body.bias", "mgr.project_in.weight", "mgr.dwconv.weight",
        "mgr.project_out.weight", "mgr.dwconv1.0.weight", "mgr.dwconv3.0.weight", "mgr.dwconv5.0.weight")}


def test_eulermormer_state_dict_keys(euler):
    expected = {"encoder.patch_embed.proj.weight", "manipulator.mag.nonlinear1.0.weight", "manipulator.mag.nonlinear2.0.weight",
                "manipulator.norm.body.weight", "manipulator.norm.body.bias", "decoder.up.body.0.weight", "decoder.output.weight"}
    for stack, n in (("encoder.texture_encoder", 2), ("encoder.motion_encoder", 2), ("manipulator.dynamic_filter", 2),
                     ("decoder.refiner", 8)):
        for i in range(n):
            expected |= euler_block_keys(f"{stack}.{i}")
    state = euler.state_dict()
    assert len(state) == 203 and set(state) == expected
    assert state["encoder.texture_encoder.0.attn.temperature"].shape == (4, 1, 1)
    assert state["decoder.up.body.0.weight"].shape == (192, 96, 3, 3)
    assert state["decoder.refiner.7.mgr.dwconv5.0.weight"].shape == (96, 3, 5, 5)  # 96 groups of 3 in -> 1 out


def test_stbvmm_state_dict_keys_and_buffers(stb):
    block = ("norm1.weight", "norm1.bias", "attn.relative_position_bias_table", "attn.relative_position_index",
             "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
             "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias")
    expected = conv_keys("conv_first", "patch_embed_dfe.norm", "patch_embed_mmsa.norm", "norm_dfe", "norm_mmsa",
                         "conv_after_body_dfe", "conv_after_body_mmsa", "upsample_conv", "conv_last")
    expected |= conv_keys("manipulator.convblks.0.conv1", "manipulator.convblks_after.0.conv1",
                          "manipulator.resblks.0.conv1", "manipulator.resblks.0.conv2", bias=False)
    for stack in ("dfe", "mmsa"):
        for i in range(6):
            layer = f"layers_{stack}.{i}"
            expected |= conv_keys(f"{layer}.conv")
            for j in range(6):
                expected |= {f"{layer}.residual_group.blocks.{j}.{k}" for k in block}
                if j % 2:
                    expected.add(f"{layer}.residual_group.blocks.{j}.attn_mask")
    state = stb.state_dict()
    assert len(state) == 1090 and set(state) == expected
    assert len(list(stb.parameters())) == 982
    index = [k for k in state if k.endswith("relative_position_index")]
    masks = [k for k in state if k.endswith("attn_mask")]
    assert len(index) == 72 and all(state[k].shape == (64, 64) and state[k].dtype == torch.int64 for k in index)
    assert len(masks) == 36 and all(state[k].shape == (36, 64, 64) for k in masks)
    assert state["layers_dfe.0.residual_group.blocks.0.attn.relative_position_bias_table"].shape == (225, 6)
    # the stored masks are those of the 48 x 48 grid of 384 x 384 frames, used only at that size
    block1 = stb.layers_dfe[0].residual_group.blocks[1]
    assert torch.equal(state[masks[0]], shifted_window_mask((48, 48), 8, 4))
    assert block1.mask((48, 48), torch.device("cpu")) is block1.attn_mask
    assert block1.mask((8, 8), torch.device("cpu")).shape == (1, 64, 64)


# -- the originals' checkpoint layouts ---------------------------------------------------------------
def _randomised(cls, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    net = cls()
    with torch.no_grad():  # move norms, temperatures and biases off their initial values too
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return net.eval()


@pytest.mark.parametrize("data_parallel", [True, False], ids=["module-prefixed", "plain"])
def test_axial_loads_the_original_checkpoint_layout(tmp_path, data_parallel, axial):
    source = _randomised(AxialMagNet, 1)
    state = (nn.DataParallel(source) if data_parallel else source).state_dict()  # on the CPU: only the key prefix
    assert all(k.startswith("module.") for k in state) == data_parallel
    # what Adam(betas=(0.9, 0.9)).state_dict() holds after some steps (built by hand: no optimizer import)
    optimizer = {"state": {i: {"step": torch.tensor(1000.0), "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
                           for i, p in enumerate(source.parameters())},
                 "param_groups": [{"lr": 2e-4 * 0.97**16, "betas": (0.9, 0.9), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                                   "maximize": False, "foreach": None, "initial_lr": 2e-4, "params": list(range(100))}]}
    path = tmp_path / "axial_mm.tar"  # train.py's dict (a torch.save file, not a tar)
    torch.save({"epoch": 50, "model_state_dict": state, "optimizer_state_dict": optimizer, "train_loss": 0.05, "val_loss": 1}, path)
    loaded = load_axial_checkpoint(path)
    assert not loaded.training
    a, b = frames(1)
    with torch.no_grad():
        assert torch.equal(loaded(a, b, 20.0, 5.0, 0.3), source.eval()(a, b, 20.0, 5.0, 0.3))
        assert not torch.equal(loaded(a, b, 20.0), axial(a, b, 20.0))


@pytest.mark.parametrize("data_parallel", [True, False], ids=["module-prefixed", "plain"])
def test_eulermormer_loads_the_original_checkpoint_layout(tmp_path, data_parallel):
    source = _randomised(EulerMormerNet, 2)
    state = (nn.DataParallel(source) if data_parallel else source).state_dict()
    path = tmp_path / "magnet_epoch99_loss5.38e-02.pth"  # a bare state dict (callbacks.save_model)
    torch.save(state, path)
    loaded = load_eulermormer_checkpoint(path)
    a, b = frames(1)
    with torch.no_grad():
        assert torch.equal(loaded(a, b, 20.0), source(a, b, 20.0))


def test_stbvmm_loads_the_original_checkpoint_layout(tmp_path, stb):
    path = tmp_path / "ckpt_e49.pth.tar"  # train.py's dict, saved from the CPU without module.
    torch.save({"epoch": 50, "state_dict": stb.state_dict(), "losses_recon": [0.1, 0.09], "losses_reg1": [0.01, 0.009]}, path)
    torch.manual_seed(1)  # the loader's own initial weights differ from the fixture's
    loaded = load_stbvmm_checkpoint(path)
    assert not loaded.training and loaded.padding == "reflect"
    state = loaded.state_dict()
    assert all(torch.equal(state[k], v) for k, v in stb.state_dict().items())  # buffers included
    a, b = frames(1, (64, 64))
    with torch.no_grad():
        assert torch.equal(loaded(a, b, 10.0), stb(a, b, 10.0))


def test_a_checkpoint_of_another_network_fails_in_one_line(tmp_path, euler):
    path = tmp_path / "euler.pth"
    torch.save(euler.state_dict(), path)
    with pytest.raises(MotionmagError, match="AxialMagNet"):
        load_axial_checkpoint(path)
    state = {f"module.{k}": v for k, v in euler.state_dict().items() if "decoder.output" not in k}
    torch.save(state, path)
    with pytest.raises(MotionmagError, match="missing"):
        load_eulermormer_checkpoint(path)


# -- training: gradients -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["axial", "euler", "stb"])
def test_gradients_reach_every_parameter(name, request):
    net = request.getfixturevalue(name)  # eval mode: STB's drop path would skip whole blocks at random
    batch, size = {"axial": (2, ODD), "euler": (1, (18, 26)), "stb": (1, (64, 64))}[name]
    a, b = frames(batch, size)
    net.zero_grad()
    extra = dict(alpha_across=2.0, theta=0.4) if name == "axial" else {}
    net(a, b, torch.tensor([4.0, 9.0][:batch]), **extra).square().mean().backward()
    dead = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    net.zero_grad(set_to_none=True)
    assert not dead, dead


# -- any frame size --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["axial", "euler", "stb"])
def test_odd_frame_sizes_come_back_at_their_size(name, request):  # STB's: 37 x 53 padded to 64 x 64
    net = request.getfixturevalue(name)
    a, b = frames(1, ODD)
    with torch.no_grad():
        out = net(a, b, 10.0)
        assert out.shape == (1, 3, *ODD) and out.dtype == torch.float32 and torch.isfinite(out).all()
        # the padding is undone exactly where it was added
        padded = net.pad(a)
        if name == "stb":
            padded = padded + torch.tensor(DIV2K_MEAN).view(1, 3, 1, 1)
        assert torch.allclose(net.unpad(padded, ODD), a, atol=1e-6)
    multiple = {"axial": 4, "euler": 2, "stb": 64}[name]
    assert all(s % multiple == 0 for s in padded.shape[-2:])


def test_stbvmm_black_centre_padding_crops_the_centre(small_stb):
    a, b = frames(1, ODD)
    with torch.no_grad():
        reflected = small_stb(a, b, 10.0)
        small_stb.padding = "black-centre"  # the same weights, the original script's padding
        try:
            padded = small_stb.pad(a) + torch.tensor(DIV2K_MEAN).view(1, 3, 1, 1)
            out = small_stb(a, b, 10.0)
        finally:
            small_stb.padding = "reflect"
    assert padded.shape[-2:] == (64, 64)
    black = torch.full_like(padded, -1.0)
    for border in (np.s_[..., :13, :], np.s_[..., 50:, :], np.s_[..., :5], np.s_[..., 58:]):  # 27 = 13 + 14, 11 = 5 + 6
        assert torch.allclose(padded[border], black[border], atol=1e-6)
    assert torch.allclose(padded[..., 13:50, 5:58], a * 2 - 1, atol=1e-6)  # the frame in the centre
    assert out.shape == (1, 3, *ODD) and not torch.allclose(out, reflected)
    with pytest.raises(ValueError, match="padding"):
        STBVMMNet(padding="zeros", depths=(2,), num_heads=(6,))


# -- pieces and special cases ------------------------------------------------------------------------------
def test_axial_theta_zero_with_equal_factors_is_the_generic_case(axial):
    a, b = frames(2)
    with torch.no_grad():
        generic = axial(a, b, 12.0)
        assert torch.equal(axial(a, b, 12.0, 12.0, 0.0), generic)
        assert torch.equal(axial(a, b, torch.tensor([12.0, 12.0]), theta=torch.zeros(2)), generic)
        # the training form: a per-pixel (B, 2, H, W) map of the same factor
        assert torch.allclose(axial(a, b, torch.full((2, 2, *ODD), 12.0)), generic, atol=1e-5)
        # the factors act per axis, and theta matters (on the shapes: with random weights the
        # decoder barely responds to them)
        _, shape = axial.encode(torch.cat([a, b]))
        def manipulated(*factors):
            return axial.manipulate(shape[:2], shape[2:], *axial.factors(*factors, batch=2))
        generic = manipulated(12.0, 12.0, 0.0)
        assert torch.equal(manipulated(12.0, None, 0.0), generic)
        assert not torch.allclose(manipulated(12.0, 0.0, 0.0), generic, atol=1e-4)
        assert not torch.allclose(manipulated(0.0, 12.0, 0.0), generic, atol=1e-4)
        assert not torch.allclose(manipulated(12.0, 3.0, math.pi / 4), manipulated(12.0, 3.0, 0.0), atol=1e-4)


def test_axial_pieces(axial):
    a, b = frames(2)
    with torch.no_grad():
        texture, shape = axial.encode(torch.cat([a, b]))
        assert texture.shape == (4, 32, 10, 14) and shape.shape == (4, 64, 20, 28)  # of the 40 x 56 padded frame
        mag, theta = axial.factors(7.0, 2.0, 0.5, batch=2)
        assert mag.shape == (2, 2, 1, 1) and theta.shape == (2, 1, 1, 1)
        manipulated = axial.manipulate(shape[:2], shape[2:], mag, theta)
        assert torch.allclose(axial.decode(texture[2:], manipulated, ODD), axial(a, b, 7.0, 2.0, 0.5), atol=1e-5)
        # the original's temporal mode: res_manipulator(0, 0, y) - y is the increment for y
        y = shape[2:] - shape[:2]
        assert torch.allclose(axial.manipulate(torch.zeros_like(y), y, mag, theta) - y, axial.delta(y, mag, theta), atol=1e-5)
        # zero motion adds a constant that does not depend on alpha (the biases)
        same = axial.manipulate(shape[:2], shape[:2], *axial.factors(5.0, batch=2))
        assert torch.allclose(same, axial.manipulate(shape[:2], shape[:2], *axial.factors(50.0, batch=2)), atol=1e-5)
        assert not torch.allclose(same, shape[:2], atol=1e-3)
        parts = axial(a, b, 7.0, others=torch.stack([a, b], dim=1))
    assert parts["textures"].shape == (2, 4, 32, 10, 14) and parts["shapes"].shape == (2, 4, 64, 20, 28)


def test_eulermormer_alpha_one_is_the_autoencoded_frame(euler):
    a, b = frames(1)
    with torch.no_grad():
        texture, shape = euler.encode(torch.cat([a, b]))
        assert shape.shape == (2, 48, 19, 27)
        assert torch.equal(euler.manipulate(shape[:1], shape[1:], 1.0), shape[1:])  # PEM(x, 1) = GELU(0) = 0
        assert torch.allclose(euler(a, b, 1.0), euler.decode(texture[1:], shape[1:], ODD), atol=1e-5)
        # zero motion with alpha != 1 still moves the shape (the LayerNorm bias reaches PEM)
        with_bias = _randomised(EulerMormerNet, 4)
        _, s = with_bias.encode(a)
        assert not torch.allclose(with_bias.manipulate(s, s, 20.0), s, atol=1e-4)
        increment = euler.manipulate(shape[:1], shape[1:], 20.0) - shape[1:]
        assert torch.allclose(euler.delta(shape[1:] - shape[:1], 20.0), increment, atol=1e-5)


def test_stbvmm_manipulator_identity_cases(stb):
    g = torch.Generator().manual_seed(5)
    fa, fb = torch.randn(2, 1, 192, 8, 8, generator=g)
    with torch.no_grad():
        assert torch.equal(stb.manipulate(fa, fb, 1.0), fb)  # (alpha - 1) = 0, no biases
        assert torch.equal(stb.manipulate(fb, fb, 20.0), fb)  # zero motion
        assert not torch.allclose(stb.manipulate(fa, fb, 20.0), fb)
        assert torch.allclose(stb.delta(fb - fa, 20.0), stb.manipulate(fa, fb, 20.0) - fb, atol=1e-5)


def test_stbvmm_pieces(small_stb):
    a, b = frames(1, ODD)
    with torch.no_grad():
        features = small_stb.encode(torch.cat([a, b]))
        assert features.shape == (2, 24, 8, 8)  # of the 64 x 64 padded frame
        out = small_stb(a, b, 5.0)
        assert torch.allclose(small_stb.decode(small_stb.manipulate(features[:1], features[1:], 5.0), ODD), out, atol=1e-5)
        parts = small_stb(a, b, 5.0, others=b[:, None])
    assert torch.allclose(parts["output"], out, atol=1e-5) and parts["features"].shape == (1, 3, 24, 8, 8)


@pytest.mark.slow
def test_stbvmm_at_the_training_size_uses_the_stored_masks(stb):
    """384 x 384: the feature grid is the 48 x 48 one of the stored masks (5 to 10 s on one core)."""
    a, b = frames(1, (384, 384))
    with torch.no_grad():
        out = stb(a, b, 10.0)
    assert out.shape == (1, 3, 384, 384) and torch.isfinite(out).all()
