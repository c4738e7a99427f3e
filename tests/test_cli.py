"""The command line: a good run gives a playable video; bad input gives one line and exit 2."""

from __future__ import annotations


import av
import numpy as np
import pytest

from conftest import run_motionmag
from motionmag.cli import main


_motionmag = run_motionmag


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "clip.mp4"
    assert main(["render", str(path), "--set", "frames=6", "--set", "width=96", "--set", "height=64"]) == 0
    return path


def test_magnify_writes_a_browser_playable_video(clip, tmp_path):
    out = tmp_path / "out.mp4"
    result = _motionmag("magnify", clip, "--alpha", 5, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == 24.0
        assert sum(1 for _ in container.decode(stream)) == 6


def test_linear_temporal_with_mask_and_png_output(clip, tmp_path):
    np.save(tmp_path / "mask.npy", np.ones((64, 96), bool))
    out = tmp_path / "frames"
    result = _motionmag("magnify", clip, "--method", "linear", "--alpha", 3, "--band", 1, 4, "--filter", "butter",
                        "--mask", tmp_path / "mask.npy", "--feather", 5, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert len(list(out.glob("*.png"))) == 6


BAD = {
    "missing input": (["magnify", "{tmp}/missing.mp4"], "no such file"),
    "not a video": (["magnify", "{tmp}/text.mp4"], "cannot read it as a video"),
    "zero frames": (["magnify", "{tmp}/empty"], "no frame images"),
    "mask of the wrong size": (["magnify", "{clip}", "--mask", "{tmp}/small.npy"], "mask is 10x10 but the video is 96x64"),
    "alpha zero": (["magnify", "{clip}", "--alpha", "0"], "alpha must be"),
    "alpha negative": (["magnify", "{clip}", "--alpha", "-3"], "alpha must be"),
    "alpha nan": (["magnify", "{clip}", "--alpha", "nan"], "alpha must be"),
    "alpha not a number": (["magnify", "{clip}", "--alpha", "abc"], "invalid float value"),
    "unwritable output": (["magnify", "{clip}", "-o", "{tmp}/no/such/dir/out.mp4"], "does not exist"),
    "unknown output type": (["magnify", "{clip}", "-o", "{tmp}/out.xyz"], "unknown output type"),
    "band beyond Nyquist": (["magnify", "{clip}", "--band", "1", "40"], "fps/2"),
    "unknown method setting": (["magnify", "{clip}", "--param", "bogus=1"], "bogus"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_one_line_and_exit_2(case, clip, tmp_path):
    (tmp_path / "text.mp4").write_text("not a video")
    (tmp_path / "empty").mkdir()
    np.save(tmp_path / "small.npy", np.ones((10, 10), bool))
    args, expected = BAD[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = _motionmag(*[a.format(tmp=tmp_path, clip=clip) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing half-written


@pytest.fixture(scope="module")
def frame_folder(tmp_path_factory):
    """Three small random PNG frames (24x16): a frame folder, which takes --fps."""
    import cv2

    folder = tmp_path_factory.mktemp("folder") / "frames"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 256, (16, 24, 3), dtype=np.uint8))
    return folder


def _bad_masks(folder):
    """Masks of the frames' size whose values are out of range, and one an image that is off everywhere."""
    import cv2

    np.save(folder / "nan.npy", np.full((16, 24), np.nan, np.float32))
    some_nan = np.ones((16, 24))
    some_nan[3, 4] = np.nan
    np.save(folder / "some_nan.npy", some_nan)
    np.save(folder / "inf.npy", np.full((16, 24), np.inf, np.float32))
    np.save(folder / "seven.npy", np.full((16, 24), 7.0, np.float32))
    np.save(folder / "negative.npy", np.full((16, 24), -0.5, np.float32))
    np.save(folder / "float255.npy", np.full((16, 24), 255.0, np.float32))  # an 8-bit mask saved as float
    np.save(folder / "seven_int.npy", np.full((16, 24), 7, np.int64))  # neither 0/1 nor 8-bit with anything on
    np.save(folder / "int300.npy", np.full((16, 24), 300, np.int32))
    np.save(folder / "zeros.npy", np.zeros((16, 24), np.float32))
    cv2.imwrite(str(folder / "seven.png"), np.full((16, 24), 7, np.uint8))


FOLDER_BAD = {
    "mask all NaN": (["--mask", "{tmp}/nan.npy"], "NaN or infinite"),
    "mask with one NaN": (["--mask", "{tmp}/some_nan.npy"], "NaN or infinite"),
    "mask inf": (["--mask", "{tmp}/inf.npy"], "NaN or infinite"),
    "mask value 7": (["--mask", "{tmp}/seven.npy"], "float mask values must lie in [0, 1], got 7 to 7"),
    "mask value -0.5": (["--mask", "{tmp}/negative.npy"], "must lie in [0, 1]"),
    "mask 0-255 as float": (["--mask", "{tmp}/float255.npy"], "divide it by 255"),
    "integer mask value 7": (["--mask", "{tmp}/seven_int.npy"], "off everywhere"),
    "integer mask value 300": (["--mask", "{tmp}/int300.npy"], "integer mask values must lie in 0-255"),
    "mask all 0": (["--mask", "{tmp}/zeros.npy"], "off everywhere"),
    "image mask all 7": (["--mask", "{tmp}/seven.png"], "off everywhere"),
    "feather nan": (["--mask", "{tmp}/zeros.npy", "--feather", "nan"], "--feather must be"),
    "feather negative": (["--feather", "-2"], "--feather must be"),
    "fps 0": (["--fps", "0"], "--fps must be a finite number > 0"),
    "fps -5": (["--fps", "-5"], "--fps must be a finite number > 0"),
    "fps nan": (["--fps", "nan"], "--fps must be a finite number > 0"),
    "fps inf": (["--fps", "inf"], "--fps must be a finite number > 0"),
    "fps 1e308": (["--fps", "1e308"], "--fps must lie between"),
    "alpha 1e308": (["--alpha", "1e308"], "alpha must be at most 1000"),
    "alpha 1001": (["--alpha", "1001"], "alpha must be at most 1000"),
    "alpha inf": (["--alpha", "inf"], "alpha must be a finite number > 0"),
    "alpha -inf": (["--alpha=-inf"], "alpha must be a finite number > 0"),
    "alpha negative": (["--alpha=-5"], "alpha must be a finite number > 0"),
}


@pytest.mark.parametrize("output", ["out.mp4", "out_frames"])
@pytest.mark.parametrize("case", FOLDER_BAD, ids=list(FOLDER_BAD))
def test_bad_numbers_and_masks_end_in_one_line_and_exit_2_with_nothing_written(case, output, frame_folder, tmp_path, capsys):
    _bad_masks(tmp_path)
    args, expected = FOLDER_BAD[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = main(["magnify", str(frame_folder), "--method", "linear", "-q", "-o", str(tmp_path / output),
                 *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("motionmag: error: ") and expected in lines[0], err
    assert not (tmp_path / output).exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no temporary left behind either


def test_the_same_bad_fps_reaches_a_video_file_as_an_error(clip, tmp_path, capsys):
    # a video file keeps its own rate, but --fps -5 is still a mistake to report, not to ignore
    assert main(["magnify", str(clip), "--method", "linear", "--fps", "-5", "-o", str(tmp_path / "out.mp4")]) == 2
    assert "--fps must be" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


RENDER_BAD = {
    "fps 0": (["--set", "fps=0"], "fps must be a finite number > 0"),
    "fps -5": (["--set", "fps=-5"], "fps must be a finite number > 0"),
    "fps nan": (["--set", "fps=.nan"], "fps must be a finite number > 0"),
    "alpha 1e308": (["--alpha", "1e308"], "alpha must be at most 1000"),
    "alpha inf": (["--alpha", "inf"], "alpha must be a finite number > 0"),
}


@pytest.mark.parametrize("output", ["r.mp4", "r_frames"])
@pytest.mark.parametrize("case", RENDER_BAD, ids=list(RENDER_BAD))
def test_render_refuses_the_same_bad_numbers(case, output, tmp_path, capsys):
    args, expected = RENDER_BAD[case]
    code = main(["render", str(tmp_path / output), "--set", "frames=3", "--set", "width=32", "--set", "height=32", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], err
    assert list(tmp_path.iterdir()) == []  # neither the clip, its .json nor a temporary


def test_masks_and_numbers_in_range_still_work(frame_folder, tmp_path, capsys):
    import cv2

    soft = np.zeros((16, 24), np.float32)
    soft[4:12, 6:18] = 0.75  # a soft float mask in [0, 1]
    eight_bit = np.zeros((16, 24), np.uint8)
    eight_bit[4:12, 6:18] = 255  # 8-bit 0/255
    np.save(tmp_path / "soft.npy", soft)
    np.save(tmp_path / "eight_bit.npy", eight_bit)
    cv2.imwrite(str(tmp_path / "mask.png"), eight_bit)
    for i, (mask, alpha) in enumerate([("soft.npy", "1000"), ("eight_bit.npy", "0.5"), ("mask.png", "10")]):
        out = tmp_path / f"out{i}.mp4"
        code = main(["magnify", str(frame_folder), "--method", "linear", "--alpha", alpha, "--fps", "12.5",
                     "--mask", str(tmp_path / mask), "--feather", "2", "-q", "-o", str(out)])
        assert code == 0, capsys.readouterr().err
        with av.open(str(out)) as container:
            assert float(container.streams.video[0].average_rate) == 12.5


def test_failed_run_keeps_an_existing_output(clip, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old")
    assert _motionmag("magnify", clip, "--alpha", "nan", "-o", out).returncode == 2
    assert out.read_bytes() == b"old"


def test_help_explains_with_examples():
    result = _motionmag("magnify", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--alpha" in result.stdout and "--mask" in result.stdout


def _commands(parser, path=()):
    """(path, parser) of every subcommand, nested ones included."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


def test_every_subcommand_has_help_with_examples():
    from motionmag.cli import build_parser

    commands = dict(_commands(build_parser()))
    assert {("magnify",), ("train",), ("render",), ("flow", "run"), ("synth", "pairs")} <= set(commands)
    for path, parser in commands.items():
        result = _motionmag(*path, "--help")
        assert result.returncode == 0 and "examples:" in result.stdout and "motionmag " + " ".join(path) in result.stdout, path


def test_magnify_flags_and_help_come_from_the_method_declarations():
    from motionmag.cli.magnify import OWN
    from motionmag.methods import list_methods, method_spec

    text = _motionmag("magnify", "--help").stdout
    for name in list_methods():
        spec = method_spec(name)
        for option in spec.options.values():
            if option.flag:
                assert option.flag_name in text
            elif option.name not in OWN:  # set by flags of the command's own
                assert f" {option.name}=" in text, option.name
    assert "oh2018 or axial or eulermormer or stbvmm only" in text and "flowmag-demo" in text
    assert "needs --checkpoint (the authors' weights: axial-mm)" in text  # no demo weights for the newer networks


def test_the_command_line_loads_no_method_until_magnify_runs():
    """--help, --version and the other subcommands' parsing do not import torch (the methods'
    declarations, which magnify's flags come from, do)."""
    import subprocess
    import sys

    code = ("import sys; from motionmag.cli import build_parser; p = build_parser(); p.format_help(); "
            "p.parse_args(['render', 'x.mp4']); print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr
    for module in ("motionmag", "motionmag.cli"):
        version = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
        assert version.returncode == 0 and version.stdout.startswith("motionmag "), version.stderr


FLAG_BAD = {
    "a flowmag flag on phase": (["--tta-steps", "3"], "--tta-steps: only for --method flowmag"),
    "learned flags on linear": (["--method", "linear", "--batch-size", "2", "--checkpoint", "m.pt"],
                                "--checkpoint, --batch-size: only for --method flowmag or oh2018"),
    "dynamic on phase": (["--mode", "dynamic"],
                         "--mode dynamic is for --method oh2018 or axial or eulermormer or stbvmm; phase has static and temporal"),
    "band in static mode": (["--mode", "static", "--band", "1", "3"], "--band is for --mode temporal, not static"),
    "filter in static mode": (["--filter", "butter"], "--filter is for --mode temporal, not static"),
    "an option phase lacks": (["--param", "lambda_c=4"], "unknown option 'lambda_c'; phase takes mode"),
    "a value of the wrong type": (["--param", "sigma=abc"], "sigma must be a number"),
}


@pytest.mark.parametrize("case", FLAG_BAD, ids=list(FLAG_BAD))
def test_flags_that_do_not_go_with_the_method_or_mode_are_one_line(case, clip, tmp_path):
    args, expected = FLAG_BAD[case]
    result = _motionmag("magnify", clip, "-o", tmp_path / "out.mp4", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


# ---- motionmag flow ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_pair(tmp_path_factory):
    """Two PNGs, the second the first moved by (1.5, -0.5) px."""
    import cv2
    from skimage import data

    folder = tmp_path_factory.mktemp("flow")
    image = cv2.GaussianBlur(data.astronaut()[100:260, 150:330], (0, 0), 1.0)
    moved = cv2.warpAffine(image, np.float32([[1, 0, 1.5], [0, 1, -0.5]]), image.shape[1::-1], flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    cv2.imwrite(str(folder / "a.png"), image[..., ::-1])
    cv2.imwrite(str(folder / "b.png"), moved[..., ::-1])
    cv2.imwrite(str(folder / "small.png"), image[:50, :50, ::-1])
    return folder


def test_flow_list_shows_every_model_with_weights_and_gradients(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_DIR", str(tmp_path))  # an empty weights folder
    result = _motionmag("flow", "list", "--json")
    assert result.returncode == 0, result.stderr
    import json

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["dis"] == dict(name="dis", method=None, differentiable=False, weights=None, present=False, needs=None,
                               summary=rows["dis"]["summary"])
    assert rows["axial-mm"]["method"] == "axial" and rows["flowmag-raft"]["method"] == "flowmag"  # magnifier weights
    assert rows["raft-things"]["weights"] == "raft_large_C_T_V1-22a6c225.pth" and rows["raft-things"]["differentiable"]
    assert rows["gmflow-things"]["needs"] == "zoo"
    table = _motionmag("flow", "list").stdout
    assert "raft-things" in table and "missing" in table


def test_flow_run_writes_a_colour_coded_image_and_the_raw_flow(image_pair, tmp_path):
    import cv2

    result = _motionmag("flow", "run", image_pair / "a.png", image_pair / "b.png", "-o", tmp_path / "flow.png",
                        "--save-flow", tmp_path / "flow.npy")
    assert result.returncode == 0, result.stderr
    picture = cv2.imread(str(tmp_path / "flow.png"))
    assert picture.shape == (160, 180, 3) and picture.std() > 0
    flow = np.load(tmp_path / "flow.npy")
    assert flow.shape == (160, 180, 2)
    assert np.allclose(np.median(flow[20:-20, 20:-20].reshape(-1, 2), 0), [1.5, -0.5], atol=0.1)


RUN = ["flow", "run", "{d}/a.png", "{d}/b.png", "-o", "{t}/flow.png"]
FLOW_BAD = {
    "unknown model": ([*RUN, "--model", "nope"], "unknown flow model 'nope'"),
    "missing weights": ([*RUN, "--model", "raft-things"], "motionmag flow fetch raft-things"),
    "sizes differ": (["flow", "run", "{d}/a.png", "{d}/small.png", "-o", "{t}/flow.png"], "the images differ in size"),
    "missing image": (["flow", "run", "{d}/a.png", "{d}/nope.png", "-o", "{t}/flow.png"], "image file not found"),
    "not an image output": (["flow", "run", "{d}/a.png", "{d}/b.png", "-o", "{t}/flow.mp4"], "must be an image"),
    "output folder missing": (["flow", "run", "{d}/a.png", "{d}/b.png", "-o", "{t}/no/flow.png"], "does not exist"),
    "raw flow folder missing": ([*RUN, "--save-flow", "{t}/no/flow.npy"], "does not exist"),
    "raw flow not .npy": ([*RUN, "--save-flow", "{t}/flow.txt"], "saved as .npy"),
    "weights for a weight-free model": ([*RUN, "--weights", "{d}/a.png"], "weight-free"),
    "a weights file that is not a checkpoint": (
        [*RUN, "--model", "raft-small", "--weights", "{d}/a.png"], "not a readable PyTorch checkpoint"
    ),
    "fetch an unknown model": (["flow", "fetch", "nope"], "unknown flow model"),
}


@pytest.mark.parametrize("case", FLOW_BAD, ids=list(FLOW_BAD))
def test_flow_bad_input_is_one_line_and_exit_2(case, image_pair, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_DIR", str(tmp_path))  # an empty weights folder
    args, message = FLOW_BAD[case]
    result = _motionmag(*[a.format(d=image_pair, t=tmp_path) for a in args])
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary


def test_flow_fetch_downloads_and_verifies_from_the_manifest(http_server, tmp_path, monkeypatch):
    import hashlib

    import yaml

    payload = b"weights" * 1000
    http_server.files["/w.pth"] = payload
    entry = dict(file="w.pth", url=http_server.url("/w.pth"), sha256=hashlib.sha256(payload).hexdigest(),
                 format="arflow", source="test", licence="MIT")
    # the manifest also lists FlowMag's released generators: not flow models, so no-argument
    # fetch (every flow model) leaves them out
    generator = dict(entry, file="g.pth", url=http_server.url("/missing.pth"), format="flowmag")
    (tmp_path / "weights.yaml").write_text(yaml.safe_dump({"arflow-kitti": entry, "flowmag-raft": generator}))
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_MANIFEST", str(tmp_path / "weights.yaml"))
    monkeypatch.setenv("MOTIONMAG_WEIGHTS_DIR", str(tmp_path / "weights"))
    assert main(["flow", "fetch", "-q"]) == 0
    assert (tmp_path / "weights" / "w.pth").read_bytes() == payload
    assert not (tmp_path / "weights" / "g.pth").exists()
