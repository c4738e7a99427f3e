"""motionmag.io: streaming readers, the H.264 writer, masks."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from motionmag.errors import MotionmagError
from motionmag.io import feather, load_mask, open_video, open_writer
from motionmag.io.writer import H264Writer


def _moving_frames(n, h=64, w=80):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h, w * 2, 3), dtype=np.uint8)
    return [np.ascontiguousarray(base[:, i : i + w]) for i in range(n)]


def test_frame_folder_natural_order_and_fps(tmp_path):
    for i in (10, 2, 1):  # 10 must come after 2
        img = np.full((8, 6, 3), i, np.uint8)
        cv2.imwrite(str(tmp_path / f"f{i}.png"), img)
    reader = open_video(tmp_path, fps=12.5)
    assert reader.info.fps == Fraction(25, 2)
    assert (reader.info.width, reader.info.height, len(reader)) == (6, 8, 3)
    assert [int(f[0, 0, 0]) for f in reader] == [1, 2, 10]


def test_h264_writer_is_browser_playable_and_keeps_fps(tmp_path):
    path = tmp_path / "odd.mp4"
    frames = [np.full((61, 97, 3), v, np.uint8) for v in range(0, 250, 25)]
    with open_writer(path, Fraction(30000, 1001)) as writer:
        for frame in frames:
            writer.write(frame)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == Fraction(30000, 1001)
        assert (stream.codec_context.width, stream.codec_context.height) == (98, 62)  # odd sizes padded by one
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "+faststart: the index must come before the media data"
    decoded = list(open_video(path))
    assert len(decoded) == len(frames)
    assert abs(int(decoded[5][10, 10, 0]) - 125) <= 3


def test_writer_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    path = tmp_path / "out.mp4"
    path.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        with H264Writer(path, 24) as writer:
            writer.write(np.zeros((16, 16, 3), np.uint8))
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_png_folder_writer_roundtrip_is_lossless(tmp_path):
    frames = _moving_frames(4)
    with open_writer(tmp_path / "frames", 24) as writer:
        for frame in frames:
            writer.write(frame)
    assert all(np.array_equal(a, b) for a, b in zip(frames, open_video(tmp_path / "frames")))


@pytest.fixture(scope="module")
def trimmed_clip(tmp_path_factory, ffmpeg):
    """A 5 s, 30 fps long-GOP clip, and a stream-copied 3 s cut of it that relies on an MP4 edit list."""
    folder = tmp_path_factory.mktemp("trim")
    full, trim = folder / "full.mp4", folder / "trim.mp4"
    run = dict(check=True, capture_output=True)
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "-t", "5",
                    "-c:v", "libx264", "-g", "250", "-pix_fmt", "yuv420p", str(full)], **run)
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-ss", "2", "-i", str(full), "-t", "3", "-c", "copy", str(trim)], **run)
    return full, trim


@pytest.mark.parametrize("backend", ["av", "cv2"])
def test_trimmed_mp4_has_the_right_frame_count(trimmed_clip, backend):
    full, trim = trimmed_clip
    assert len(open_video(full, backend=backend)) == 150
    reader = open_video(trim, backend=backend)
    assert len(reader) == 90
    assert sum(1 for _ in reader) == 90


def test_decord_backend_is_correct_or_refuses(trimmed_clip):
    pytest.importorskip("decord")
    full, trim = trimmed_clip
    assert sum(1 for _ in open_video(full, backend="decord")) == 150
    with pytest.raises(MotionmagError, match="edit list"):
        open_video(trim, backend="decord")


def test_bad_inputs_raise_one_clear_error(tmp_path):
    with pytest.raises(MotionmagError, match="no such file"):
        open_video(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(MotionmagError, match="cannot read it as a video"):
        open_video(tmp_path / "text.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MotionmagError, match="no frame images"):
        open_video(tmp_path / "empty")


def test_masks_from_npy_and_image_with_size_check(tmp_path):
    mask = np.zeros((20, 30), bool)
    mask[5:15, 10:20] = True
    np.save(tmp_path / "m.npy", mask)
    cv2.imwrite(str(tmp_path / "m.png"), mask.astype(np.uint8) * 255)
    for name in ("m.npy", "m.png"):
        loaded = load_mask(tmp_path / name, size=(20, 30))
        assert loaded.dtype == np.float32 and np.array_equal(loaded > 0.5, mask)
    with pytest.raises(MotionmagError, match="mask is 30x20 but the video is 31x20"):
        load_mask(tmp_path / "m.npy", size=(20, 31))


def test_feather_ramps_outwards_smoothly():
    mask = np.zeros((101, 101), np.float32)
    mask[40:61, 40:61] = 1
    soft = feather(mask, 10)
    assert np.all(soft[mask > 0] == 1)  # the object itself stays fully magnified
    profile = soft[50, 61:75]  # walking right, away from the square
    assert np.all(np.diff(profile) <= 1e-6) and profile[0] > 0.9 and profile[-1] == 0
    assert 0.2 < soft[50, 65] < 0.8  # halfway out of the 10 px ramp
    assert feather(mask, 0) is not None and np.array_equal(feather(mask, 0), mask)
