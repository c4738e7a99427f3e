"""The acceptance tests of the classical methods: measured motion is alpha times the input motion."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import make_renderer, region_motion
from motionmag.errors import MotionmagError
from motionmag.evaluate import measured_amplification
from motionmag.flow import get_flow_model
from motionmag.methods import get_magnifier


@pytest.fixture(scope="module")
def lk():
    return get_flow_model("lk")


def _measure(magnifier, renderer, alpha, flow_model, margin=12):
    frames = list(renderer.frames())
    out = list(magnifier.magnify(frames, alpha))
    obj_region, bg_region = renderer.regions(margin=margin)
    obj_true, _ = renderer.displacements()
    obj = region_motion(out, obj_region, flow_model)
    bg = region_motion(out, bg_region, flow_model)
    peak_ratio = np.linalg.norm(obj, axis=1).max() / np.linalg.norm(obj_true, axis=1).max()
    return measured_amplification(obj, obj_true), np.abs(bg).max(), peak_ratio


def test_phase_alpha_10_turns_a_quarter_pixel_into_two_and_a_half(lk):
    renderer = make_renderer(amplitude=0.25, frames=9, fps=8.0)  # frame 2 is the 0.25 px peak
    gain, background, peak_ratio = _measure(get_magnifier("phase"), renderer, 10.0, lk)
    assert gain == pytest.approx(10.0, rel=0.10)
    assert peak_ratio == pytest.approx(10.0, rel=0.10)  # 0.25 px -> 2.5 px
    assert background < 0.05


def test_linear_in_its_valid_range(lk):
    # Wu et al.'s bound: alpha * d < lambda / 8. A smooth texture (sigma 3 px) and 1 px of output
    # motion keep every amplified level inside it when lambda_c = 8.
    renderer = make_renderer(amplitude=0.25, smooth=3.0)
    gain, background, _ = _measure(get_magnifier("linear", lambda_c=8), renderer, 4.0, lk)
    assert gain == pytest.approx(4.0, rel=0.10)
    assert background < 0.05


def test_linear_attenuates_beyond_its_valid_range(lk):
    """Past the bound, lambda_c lowers the gain of fine levels instead of amplifying artefacts."""
    renderer = make_renderer(amplitude=0.25)
    gain, _, _ = _measure(get_magnifier("linear", lambda_c=64), renderer, 10.0, lk)
    assert gain < 8.0


def test_temporal_mode_magnifies_only_the_pass_band(lk):
    # object at 2 Hz (inside 1-4 Hz) and background at 0.2 Hz (outside), 30 fps
    renderer = make_renderer(amplitude=0.2, frequency=2.0, background_amplitude=0.2, frames=60, fps=30.0)
    renderer.clip.background_motion.frequency = 0.2
    frames = list(renderer.frames())
    magnifier = get_magnifier("phase", mode="temporal", band=(1.0, 4.0), fps=30.0, filter="ideal", taps=31)
    out = list(magnifier.magnify(frames, 5.0))
    obj_region, bg_region = renderer.regions(margin=12)
    obj_true, bg_true = renderer.displacements()
    steady = slice(15, 45)  # away from the filter's edge padding
    obj = region_motion(out, obj_region, lk)[steady]
    bg = region_motion(out, bg_region, lk)[steady]
    # the band-pass removes the slow drift of frame 0's reference, so compare the oscillation
    obj_gain = np.std(obj @ np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])) / np.std(np.linalg.norm(obj_true[steady], axis=1) * np.sign(obj_true[steady, 0]))
    bg_gain = np.std(bg[:, 1]) / np.std(bg_true[steady, 1])
    assert obj_gain == pytest.approx(5.0, rel=0.2)
    assert bg_gain < 2.0


def test_mask_limits_magnification():
    renderer = make_renderer(amplitude=0.25, frames=4)
    frames = [np.round(f * 255).astype(np.uint8) for f in renderer.frames()]
    out = list(get_magnifier("phase").magnify(frames, 10.0, mask=np.zeros(frames[0].shape[:2], np.float32)))
    assert all(np.array_equal(a, b) for a, b in zip(frames, out))
    half = np.zeros(frames[0].shape[:2], np.float32)
    half[:, :100] = 1
    out = list(get_magnifier("phase").magnify(frames, 10.0, mask=half))
    assert np.array_equal(out[2][:, 100:], frames[2][:, 100:])
    assert not np.array_equal(out[2][:, :100], frames[2][:, :100])


def test_streaming_yields_before_the_input_ends():
    """Static mode emits each frame as soon as it is read: memory cannot grow with length."""
    rng = np.random.default_rng(0)
    consumed = []

    def frames():
        for i in range(1000):
            consumed.append(i)
            yield rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)

    for method in ("linear", "phase"):
        consumed.clear()
        stream = get_magnifier(method).magnify(frames(), 5.0)
        for _ in range(3):
            next(stream)
        assert len(consumed) == 3


@pytest.mark.parametrize("alpha", [0.0, -2.0, float("nan"), float("inf")])
def test_bad_alpha_is_rejected(alpha):
    with pytest.raises(MotionmagError, match="alpha"):
        list(get_magnifier("linear").magnify([np.zeros((8, 8, 3), np.uint8)], alpha))


def test_unknown_method_and_setting_are_clear_errors():
    with pytest.raises(MotionmagError, match="unknown method"):
        get_magnifier("nope")
    with pytest.raises(MotionmagError, match="method phase"):
        get_magnifier("phase", bogus=1)


def test_real_frames_with_a_feathered_mask(twocats):
    """Targeted magnification on real camera frames (FlowMag's twocats example, white cat mask)."""
    from motionmag.io import feather, load_mask, open_video

    frames = [f for f, _ in zip(open_video(twocats / "frames"), range(3))]
    mask = feather(load_mask(twocats / "white_cat_mask.npy", size=frames[0].shape[:2]), 25)
    for method in ("linear", "phase"):
        out = list(get_magnifier(method).magnify(frames, 10.0, mask=mask))
        assert len(out) == 3 and out[0].shape == frames[0].shape
        assert np.array_equal(out[2][mask == 0], frames[2][mask == 0])  # untouched outside the mask
        assert np.abs(out[2][mask == 1].astype(int) - frames[2][mask == 1]).mean() > 0.2  # magnified inside


# ---- the declarations ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind", [("phase", "phase"), ("flowmag-raft", "flowmag"), ("oh2018-paper", "oh2018"),
                                        ("flowmag-retrained-arflow", "flowmag"), ("linear", "linear")])
def test_method_spec_reads_variant_names(name, kind):
    import motionmag.methods as methods

    spec = methods.method_spec(name)
    assert spec.name == kind and spec is methods._METHODS[kind].spec
    assert spec.learned == (kind in ("flowmag", "oh2018"))
    assert spec.demo_weights == (f"{kind}-demo" if spec.learned else None)


def test_method_spec_of_an_unknown_method_is_a_clear_error():
    from motionmag.methods import method_spec

    with pytest.raises(MotionmagError, match="unknown method 'nope-raft'; available: axial, eulermormer, flowmag, linear, oh2018, phase, stbvmm"):
        method_spec("nope-raft")


@pytest.mark.parametrize("name", ["flowmag", "linear", "oh2018", "phase", "axial", "eulermormer", "stbvmm"])
def test_each_declaration_is_its_constructor(name):
    """Every declared option is a constructor parameter with the same default, in the same order,
    and every parameter but device is declared."""
    import inspect

    import motionmag.methods as methods
    from motionmag.methods.base import REQUIRED

    cls = methods._METHODS[name]
    parameters = {k: p for k, p in inspect.signature(cls).parameters.items() if k != "device"}
    spec = methods.method_spec(name)
    assert list(spec.options) == list(parameters)
    for option in spec.options.values():
        default = parameters[option.name].default
        assert option.default == (REQUIRED if default is inspect.Parameter.empty else default), option.name
    assert cls.name == name and spec.modes == spec.options["mode"].choices
    assert spec.two_frame_mode in spec.modes


def test_modes_are_what_the_methods_have():
    from motionmag.methods import method_spec

    assert {name: method_spec(name).modes for name in ("flowmag", "linear", "oh2018", "phase")} == {
        "flowmag": ("static",), "linear": ("static", "temporal"), "oh2018": ("static", "dynamic", "temporal"),
        "phase": ("static", "temporal")}
    assert method_spec("oh2018").options["band"].modes == ("temporal",)


def test_get_magnifier_rejects_an_unknown_option_in_one_line_naming_the_allowed_ones():
    with pytest.raises(MotionmagError) as error:
        get_magnifier("phase-fine", bogus=1)
    message = str(error.value)
    assert "\n" not in message and message.startswith("method phase-fine: unknown option 'bogus'")
    assert "orientations" in message and "highpass" in message


@pytest.mark.parametrize("settings, message", [
    (dict(sigma="abc"), "sigma must be a number, got 'abc'"),
    (dict(attenuate="yes"), "attenuate must be true or false"),
    (dict(band=[1.0]), "band must be a pair of numbers"),
    (dict(mode="dynamic"), "mode must be one of static, temporal, got 'dynamic'"),
    (dict(orientations=1), "orientations must be at least 2, got 1"),
])
def test_get_magnifier_checks_values_against_the_declaration(settings, message):
    with pytest.raises(MotionmagError, match=re.escape(message)):
        get_magnifier("phase", **settings)


def test_get_magnifier_accepts_values_as_configs_give_them():
    import numpy as np

    magnifier = get_magnifier("linear", mode="temporal", band=[1, 4], fps=np.float64(30), taps=np.int64(31),
                               lambda_c=16, filter="fir", device="cpu")
    assert magnifier.lambda_c == 16.0 and magnifier.band == [1, 4]


def test_a_learned_method_needs_its_checkpoint():
    with pytest.raises(MotionmagError, match="method oh2018-paper needs checkpoint"):
        get_magnifier("oh2018-paper", mode="static")


def test_two_frame_settings_force_static_mode_where_there_is_a_choice():
    from motionmag.methods import method_spec

    temporal = dict(mode="temporal", band=[0.5, 3.0], filter="fir")
    assert method_spec("phase").two_frame(temporal) == dict(temporal, mode="static")
    assert temporal["mode"] == "temporal"  # a copy
    assert method_spec("linear").two_frame({}) == dict(mode="static")
    assert method_spec("oh2018-paper").two_frame(dict(mode="dynamic", batch_size=2)) == dict(mode="static", batch_size=2)
    assert method_spec("flowmag-raft").two_frame(dict(batch_size=4)) == dict(batch_size=4)  # static only: nothing to set
    assert method_spec("flowmag").two_frame(dict(mode="static")) == dict(mode="static")


