"""Stage ``magnify``: every clip x method x alpha magnified, what people look at, and the pair
benchmarks magnified pair by pair.

Rules: ``magnify``, ``side_by_side`` (the video and the x-t slices), ``magnify_pairs``.
torch and the methods are imported inside :func:`magnify` and :func:`magnify_pairs` only.
"""

from __future__ import annotations

from pathlib import Path

from motionmag.workflow.common import log, read_meta, set_threads, with_checkpoint


def magnify(frames: str | Path, meta: str | Path, method: str, settings: dict, alphas: list[float],
            out_frames: list[str | Path], videos: list[str | Path] | None = None, crf: int = 18,
            device: str = "cpu", checkpoint: str | Path | None = None, threads: int | None = None) -> None:
    """Magnify a clip's frames by every alpha in ``alphas`` into lossless PNG frames (``out_frames``,
    one folder per alpha) and, with ``videos``, the same frames as browser-playable H.264 files
    (written in the same pass). One method, built once (``checkpoint``: a learned method's model)."""
    from contextlib import ExitStack

    from tqdm import tqdm

    from motionmag.io import open_video, open_writer
    from motionmag.methods import get_magnifier

    videos = videos or [None] * len(alphas)
    if not len(alphas) == len(out_frames) == len(videos):
        raise ValueError(f"{len(alphas)} alphas but {len(out_frames)} frame folders and {len(videos)} videos")
    set_threads(threads)
    info = read_meta(meta)
    magnifier = get_magnifier(method, fps=info["fps"], device=device, **with_checkpoint(settings, checkpoint))
    for alpha, folder, video in zip(alphas, out_frames, videos):
        reader = open_video(frames, fps=info["fps"])
        with ExitStack() as stack:
            writers = [stack.enter_context(open_writer(folder, info["fps"]))]
            if video is not None:
                writers.append(stack.enter_context(open_writer(video, info["fps"], crf=crf)))
            for frame in tqdm(magnifier.magnify(reader, alpha), total=len(reader), desc=f"{method} x{alpha:g}"):
                for writer in writers:
                    writer.write(frame)
        log(f"{method} x{alpha:g}: {len(reader)} frames -> {folder}")


def side_by_side_video(frame_dirs: list[str | Path], labels: list[str], meta: str | Path, out_path: str | Path,
                       crf: int = 18) -> None:
    from motionmag.io import open_video, open_writer
    from motionmag.report.visuals import side_by_side as tile

    info = read_meta(meta)
    streams = [open_video(d, fps=info["fps"]) for d in frame_dirs]
    with open_writer(out_path, info["fps"], crf=crf) as writer:
        for frame in tile(streams, labels):
            writer.write(frame)


def xt_slice_image(frame_dirs: list[str | Path], labels: list[str], meta: str | Path, out_path: str | Path) -> None:
    """x-t slices through the row of the object's centre (rendered clips) or the middle row."""
    import cv2

    from motionmag.io import open_video
    from motionmag.report.visuals import slice_panel, xt_slice

    info = read_meta(meta)
    row = info["height"] // 2
    if info.get("render"):
        row = int(info["render"]["object_center"][1] * info["height"])
    slices = [xt_slice(open_video(d, fps=info["fps"]), row) for d in frame_dirs]
    panel = slice_panel(slices, labels)
    cv2.imwrite(str(out_path), cv2.cvtColor(panel, cv2.COLOR_RGB2BGR))


def side_by_side(frames: str | Path, magnified: list[str | Path], meta: str | Path, labels: list[str],
                 video: str | Path, slices: str | Path, crf: int = 18) -> None:
    """Every method next to the input: a video, and x-t slices as one image (labels: the input's,
    then one per magnified folder)."""
    frame_dirs = [frames, *magnified]
    if len(labels) != len(frame_dirs):
        raise ValueError(f"side_by_side: {len(labels)} labels for {len(frame_dirs)} frame folders")
    side_by_side_video(frame_dirs, labels, meta, video, crf=crf)
    xt_slice_image(frame_dirs, labels, meta, slices)
    log(f"{len(frame_dirs)} panels -> {video}, {slices}")


def magnify_pairs(pairs: str | Path, method: str, settings: dict, alphas: list[float], out: list[str | Path],
                  crop: int | None = None, limit: int | None = None, device: str = "cpu",
                  protocol: str = "corrected", checkpoint: str | Path | None = None,
                  threads: int | None = None) -> int:
    """Magnify a pair benchmark (each pair a two-frame clip, cropped as the benchmark says) by every
    alpha in ``alphas`` into pair files of (magnified I0, magnified I1), one per alpha (``out``):
    uint8 PNG, or under the ``paper`` protocol float32 frames magnified in float32
    (motionmag.evaluate.pairs). Returns the number of pairs."""
    from motionmag.data.pairs import PairSet, write_pair_set
    from motionmag.evaluate.pairs import magnify_pairs as magnified_pairs
    from motionmag.evaluate.pairs import protocol_settings
    from motionmag.methods import get_magnifier

    if len(alphas) != len(out):
        raise ValueError(f"{len(alphas)} alphas but {len(out)} pair files")
    set_threads(threads)
    settings = protocol_settings(method, with_checkpoint(settings, checkpoint), protocol)
    magnifier = get_magnifier(method, device=device, **settings)
    count = 0
    for alpha, path in zip(alphas, out):
        magnified = magnified_pairs(PairSet(pairs), magnifier, alpha, crop, limit, progress=True, protocol=protocol)
        count = write_pair_set(path, magnified, encoding="npy" if protocol == "paper" else "png")
        log(f"{count} pairs magnified ({method} x{alpha:g}, {protocol} protocol) -> {path}")
    return count
