"""The five video sources of FlowMag's pair set: where each keeps its frames, a frame index per
video, and the candidate pairs (docs/datasets.md#layout-and-keys, #candidate-pairs).

Every frame is named by FlowMag's relative-path key (e.g.
``davis2017/DAVIS-2017-trainval-480p/DAVIS/JPEGImages/480p/bear/00000.jpg``), so the authors'
``train_included.json`` can be matched pair by pair. Each archive is extracted into a folder of
its own (``resources/datasets/<entry>/``), which stands in for FlowMag's folder of that archive.
Every listing is sorted (the original's unsorted glob made its names depend on the file system).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from motionmag.data.pairs import candidate_pairs
from motionmag.errors import MotionmagError


@dataclass(frozen=True)
class Layout:
    """One dataset split: the manifest entries it needs and FlowMag's key prefix for each."""

    dataset: str
    split: str
    archive: str  # the datasets-manifest entry whose extracted folder holds the frames
    prefix: str  # FlowMag's path of that folder, relative to its data root
    lists: tuple[str, ...] = ()  # other manifest entries read as they are (video lists)


LAYOUTS = {
    ("davis", "train"): Layout("davis", "train", "davis-2017-trainval-480p", "davis2017/DAVIS-2017-trainval-480p"),
    ("davis", "test"): Layout("davis", "test", "davis-2017-test-dev-480p", "davis2017/DAVIS-2017-test-dev-480p"),
    ("youtube_vos", "train"): Layout("youtube_vos", "train", "youtube-vos-2019-train", "youtube-vos-2019"),
    ("youtube_vos", "test"): Layout("youtube_vos", "test", "youtube-vos-2019-test", "youtube-vos-2019"),
    ("vimeo", "train"): Layout("vimeo", "train", "vimeo-septuplet", "vimeo"),
    ("vimeo", "test"): Layout("vimeo", "test", "vimeo-septuplet", "vimeo"),
    ("tao", "train"): Layout("tao", "train", "tao-train", "tao"),
    ("tao", "test"): Layout("tao", "test", "tao-val", "tao"),
    # UVO's videos are rebuilt from Kinetics-400 val (rule uvo_videos); the jsons list them
    ("uvo", "train"): Layout("uvo", "train", "uvo-videos", "uvo_frames", ("uvo-train-dense",)),
    ("uvo", "test"): Layout("uvo", "test", "uvo-videos", "uvo_frames", ("uvo-test-dense",)),
}
# FlowMag's sub-datasets: (dataset, frame spacing s); pairs are (2k, 2k + s)
SUBSETS = {
    "youtube_vos": ("youtube_vos", 1), "davis": ("davis", 1), "vimeo": ("vimeo", 1),
    "tao_n1": ("tao", 1), "tao_n5": ("tao", 5), "uvo_n1": ("uvo", 1), "uvo_n5": ("uvo", 5),
}
DATASETS = sorted({dataset for dataset, _ in SUBSETS.values()})
SPLITS = ("train", "test")
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class VideoFrames:
    """One video of the index: frames in a folder (``names``) or decoded from a file (``count``)."""

    video: str  # id, e.g. "bear", "00001/0001", "LaSOT/airplane-1", a YouTube id
    path: str  # the frame folder or the video file, absolute
    key: str  # FlowMag's key of the folder (frame keys are key/<name>)
    names: list[str] = field(default_factory=list)  # frame files, sorted (folders only)
    count: int = 0  # decoded frames (video files only)

    @property
    def is_file(self) -> bool:
        return not self.names

    def __len__(self) -> int:
        return self.count if self.is_file else len(self.names)

    def frame_key(self, i: int) -> str:
        return f"{self.key}/{self.names[i] if self.names else f'{i:05d}.png'}"  # FlowMag decoded UVO to %05d.png


def _frames_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file())


def count_decoded_frames(path: str | Path) -> int:
    """Frames OpenCV decodes from a video file, counted by decoding (the container's frame count
    can be wrong: edit lists, variable frame rates); FlowMag decoded UVO the same way."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise MotionmagError(f"{path}: not a readable video")
    n = 0
    while capture.grab():
        n += 1
    capture.release()
    return n


def _uvo_ids(listing: Path) -> list[str]:
    try:
        videos = json.loads(listing.read_text())["videos"]
        return sorted({v["ytid"] for v in videos})
    except (json.JSONDecodeError, KeyError, TypeError):
        raise MotionmagError(f"{listing}: not a UVO json (videos[].ytid)") from None


def index_videos(layout: Layout, root: str | Path, lists: dict[str, Path] | None = None) -> list[VideoFrames]:
    """Every video of a dataset split, its frames sorted, from the extracted folder ``root``.

    lists: manifest entry -> file, for layouts that list their videos elsewhere (UVO's jsons).
    UVO videos missing from ``root`` (clips gone from YouTube) are left out; the per-clip
    manifest of the uvo_videos step records why.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise MotionmagError(f"{root}: the extracted {layout.archive} folder does not exist")
    videos: list[VideoFrames] = []

    def folder_video(video: str, rel: str) -> None:
        folder = root / rel
        names = _frames_in(folder)
        if names:
            videos.append(VideoFrames(video, str(folder), f"{layout.prefix}/{rel}", names))

    if layout.dataset == "davis":
        base = "DAVIS/JPEGImages/480p"
        for seq in sorted(p.name for p in (root / base).iterdir() if p.is_dir()):
            folder_video(seq, f"{base}/{seq}")
    elif layout.dataset == "youtube_vos":
        base = f"{layout.split}/JPEGImages"
        if not (root / base).is_dir():
            raise MotionmagError(f"{root}: no {base}/ (a YouTube-VOS 2019 {layout.split}.zip unpacks to it)")
        for vid in sorted(p.name for p in (root / base).iterdir() if p.is_dir()):
            folder_video(vid, f"{base}/{vid}")
    elif layout.dataset == "vimeo":
        listing = root / "vimeo_septuplet" / f"sep_{layout.split}list.txt"
        if not listing.is_file():
            raise MotionmagError(f"{listing}: the septuplet list is missing")
        # lists can end with blank lines: they are not sequences
        for seq in sorted({line.strip() for line in listing.read_text().splitlines() if line.strip()}):
            folder_video(seq, f"vimeo_septuplet/sequences/{seq}")
    elif layout.dataset == "tao":
        base = f"frames/{'train' if layout.split == 'train' else 'val'}"
        for source in sorted(p.name for p in (root / base).iterdir() if p.is_dir()):
            for video in sorted(p.name for p in (root / base / source).iterdir() if p.is_dir()):
                folder_video(f"{source}/{video}", f"{base}/{source}/{video}")
    elif layout.dataset == "uvo":
        (listing,) = [Path(lists[name]) for name in layout.lists] if lists else [None]
        if listing is None:
            raise MotionmagError(f"UVO {layout.split}: the dense json ({layout.lists[0]}) is needed")
        for ytid in _uvo_ids(listing):
            path = root / "uvo_videos_dense" / f"{ytid}.mp4"
            if path.is_file():
                videos.append(VideoFrames(ytid, str(path), f"{layout.prefix}/uvo_videos_dense/{ytid}",
                                          count=count_decoded_frames(path)))
    else:  # pragma: no cover - LAYOUTS and this function change together
        raise MotionmagError(f"no layout for {layout.dataset}")
    return videos


def write_index(videos: list[VideoFrames], path: str | Path, info: dict) -> None:
    data = dict(info, videos=len(videos), frames=sum(len(v) for v in videos), index=[v.__dict__ for v in videos])
    Path(path).write_text(json.dumps(data, indent=0) + "\n")


def read_index(path: str | Path) -> list[VideoFrames]:
    try:
        return [VideoFrames(**v) for v in json.loads(Path(path).read_text())["index"]]
    except (json.JSONDecodeError, KeyError, TypeError, FileNotFoundError) as err:
        raise MotionmagError(f"{path}: not a frame index ({err})") from None


CANDIDATE_COLUMNS = ["video", "i", "j", "key_a", "key_b"]


def candidates(videos: list[VideoFrames], spacing: int) -> Iterator[dict]:
    """Every candidate pair of an index in order, with FlowMag's sorted keys (frameA earlier)."""
    for v_index, video in enumerate(videos):
        for i, j in candidate_pairs(len(video), spacing):
            yield dict(video=v_index, i=i, j=j, key_a=video.frame_key(i), key_b=video.frame_key(j))


def shard_range(total: int, shards: int, shard: int) -> range:
    """The candidates of shard ``shard`` of ``shards``: contiguous, sizes differing by at most one."""
    return range(total * shard // shards, total * (shard + 1) // shards)


class FrameReader:
    """Frames of an index by (video, i), RGB uint8. Folder frames are read directly; a video file
    is decoded forward from where it was last read (pairs come in order), reopened to go back."""

    def __init__(self, videos: list[VideoFrames]):
        self.videos = videos
        self._capture = None
        self._at: tuple[int, int] | None = None  # (video, next frame index) of the open capture

    def __call__(self, video: int, i: int) -> np.ndarray:
        entry = self.videos[video]
        if not entry.is_file:
            frame = cv2.imread(str(Path(entry.path) / entry.names[i]), cv2.IMREAD_COLOR)
            if frame is None:
                raise MotionmagError(f"{entry.path}/{entry.names[i]}: not a readable image")
            return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if self._at is None or self._at[0] != video or self._at[1] > i:
            if self._capture is not None:
                self._capture.release()
            self._capture, self._at = cv2.VideoCapture(entry.path), (video, 0)
        capture, at = self._capture, self._at[1]
        while at < i:
            capture.grab()
            at += 1
        ok, frame = capture.read()
        if not ok:
            raise MotionmagError(f"{entry.path}: frame {i} could not be decoded")
        self._at = (video, i + 1)
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def __getstate__(self):
        return {**self.__dict__, "_capture": None, "_at": None}
