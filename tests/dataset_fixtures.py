"""Tiny archives laid out like each real source (docs/datasets.md#layout-and-keys), with frames of
known motion.

Every video is a textured, static background with a textured square on it. Between frames 2k and
2k+1 the video does one of these, so FlowMag's filter has a known answer for each pair:

    still   nothing moves             -> dropped: "duplicate" (mse 0)
    subtle  the square moves 1 px     -> kept
    pan     the whole frame moves 4 px -> dropped: "most pixels move"
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

import cv2
import numpy as np
from skimage import data as skdata

W, H = 96, 80
KINDS = ("still", "subtle", "pan")
EXPECTED_REASON = {"still": "duplicate", "subtle": "", "pan": "most pixels move"}


def _texture(name: str, h: int, w: int) -> np.ndarray:
    image = getattr(skdata, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return cv2.resize(np.ascontiguousarray(image[..., :3]), (w, h), interpolation=cv2.INTER_AREA)


def _shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def video_frames(kinds: list[str], seed: int = 0) -> list[np.ndarray]:
    """RGB frames: pair k (frames 2k, 2k+1) shows ``kinds[k]``; frame 2k+2 returns to rest."""
    rng = np.random.default_rng(seed)
    background = _texture("coffee", H + 16, W + 16)
    square = _texture("astronaut", 40, 40)
    y0, x0 = int(rng.integers(10, 24)), int(rng.integers(10, 40))

    def compose(obj_dx=0.0, pan=0.0):
        frame = background.copy()
        frame[y0:y0 + 40, x0:x0 + 40] = square
        if obj_dx:
            moved = background.copy()
            moved[y0:y0 + 40, x0 + 1:x0 + 41] = square
            frame = moved
        if pan:
            frame = _shift(frame, pan, 0)
        return frame[8:8 + H, 8:8 + W]

    frames = []
    for kind in kinds:
        frames.append(compose())
        frames.append(compose(obj_dx=1.0) if kind == "subtle" else compose(pan=4.0) if kind == "pan" else compose())
    return frames


def _encode(frame: np.ndarray, ext: str) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, 98] if ext == ".jpg" else []
    ok, data = cv2.imencode(ext, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params)
    assert ok
    return data.tobytes()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buffer.getvalue()


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def frame_folder(prefix: str, frames: list[np.ndarray], ext: str = ".jpg", step: int = 1) -> dict[str, bytes]:
    return {f"{prefix}/{i * step:05d}{ext}": _encode(f, ext) for i, f in enumerate(frames)}


def mp4(frames: list[np.ndarray], path) -> bytes:
    """A lossless-ish H.264 clip (crf 0) at 30 fps, through PyAV."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv444p"
        stream.options = {"crf": "0"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


# the kinds of each fixture video, by dataset and split (train: every kind appears)
VIDEOS = {
    "davis": {"train": {"bear": ["subtle", "still", "pan"], "car": ["pan", "subtle"]}, "test": {"dog": ["subtle", "subtle"]}},
    "youtube_vos": {"train": {"0a1b": ["subtle", "pan"]}, "test": {"9z8y": ["subtle", "still"]}},
    "tao": {"train": {"LaSOT/cat-1": ["subtle", "still", "subtle"], "BDD/b1c2": ["pan", "subtle", "subtle"]},
            "test": {"LaSOT/dog-2": ["subtle", "subtle"], "BDD/x9": ["subtle", "still"]}},
    "uvo": {"train": {"yt_A-1": ["subtle", "pan", "subtle"], "ytB2": ["subtle", "still"]},
            "test": {"ytC3": ["subtle", "subtle"], "ytGONE": ["subtle"]}},
}
VIMEO = {"train": {"00001/0001": ["subtle", "still", "pan", "subtle"]}, "test": {"00002/0001": ["subtle", "pan", "still", "subtle"]}}


def build_archives(tmp) -> dict[str, bytes]:
    """file name -> bytes of every fixture file the datasets manifest of the tests lists."""
    files: dict[str, bytes] = {}
    davis = {split: {} for split in ("train", "test")}
    for split, videos in VIDEOS["davis"].items():
        for k, (seq, kinds) in enumerate(videos.items()):
            davis[split].update(frame_folder(f"DAVIS/JPEGImages/480p/{seq}", video_frames(kinds, k)))
    files["DAVIS-2017-trainval-480p.zip"] = _zip(davis["train"])
    files["DAVIS-2017-test-dev-480p.zip"] = _zip(davis["test"])
    for split, videos in VIDEOS["youtube_vos"].items():  # 6-fps JPEGs named every 5th frame
        members = {}
        for k, (vid, kinds) in enumerate(videos.items()):
            members.update(frame_folder(f"{split}/JPEGImages/{vid}", video_frames(kinds, k), step=5))
        files[f"youtube-vos-2019-{split}.zip"] = _zip(members)
    vimeo = {}
    for split, seqs in VIMEO.items():
        for seq, kinds in seqs.items():
            frames = video_frames(kinds)[:7]
            vimeo.update({f"vimeo_septuplet/sequences/{seq}/im{i + 1}.png": _encode(f, ".png") for i, f in enumerate(frames)})
        vimeo[f"vimeo_septuplet/sep_{split}list.txt"] = ("\n".join(seqs) + "\n\n").encode()  # a trailing blank line
    files["vimeo_septuplet.zip"] = _zip(vimeo)
    for split, name in (("train", "1-TAO_TRAIN.zip"), ("test", "2-TAO_VAL.zip")):
        members = {}
        for k, (video, kinds) in enumerate(VIDEOS["tao"][split].items()):
            members.update(frame_folder(f"frames/{'train' if split == 'train' else 'val'}/{video}", video_frames(kinds, k)))
        files[name] = _zip(members)
    clips = {}
    for split, videos in VIDEOS["uvo"].items():
        files[f"UVO_video_{split}_dense.json"] = json.dumps({"videos": [{"id": i, "ytid": y} for i, y in enumerate(videos)]}).encode()
        for k, (ytid, kinds) in enumerate(videos.items()):
            if ytid != "ytGONE":  # gone from the mirror: recorded missing, not fatal at 0.75
                clips[f"val/{ytid}_000001_000011.mp4"] = mp4(video_frames(kinds, k), tmp / f"{ytid}.mp4")
    files["part_0.tar"] = _tar(clips)
    return files


def expected_decisions(dataset: str, split: str, spacing: int = 1) -> dict[str, str]:
    """FlowMag key of frame A's video/index -> the expected drop reason ("" = kept), s = 1 only."""
    assert spacing == 1
    table = VIMEO if dataset == "vimeo" else VIDEOS[dataset]
    out = {}
    for video, kinds in table[split].items():
        n = 7 if dataset == "vimeo" else 2 * len(kinds)
        for k in range(n // 2):
            out[f"{video}:{2 * k}"] = EXPECTED_REASON[kinds[k]]
    return out
