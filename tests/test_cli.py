"""The command line: a good run gives a playable video; bad input gives one line and exit 2."""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np
import pytest

from motionmag.cli import main


def _motionmag(*args):
    return subprocess.run([sys.executable, "-m", "motionmag.cli", *map(str, args)], capture_output=True, text=True)


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


def test_failed_run_keeps_an_existing_output(clip, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old")
    assert _motionmag("magnify", clip, "--alpha", "nan", "-o", out).returncode == 2
    assert out.read_bytes() == b"old"


def test_help_explains_with_examples():
    result = _motionmag("magnify", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--alpha" in result.stdout and "--mask" in result.stdout
