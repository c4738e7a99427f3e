"""Stage ``clips``: demo clips as folders of lossless PNG frames next to a ``meta.json`` (fps,
size, and for rendered clips the renderer settings that define their ground truth).

Rules: ``render_clip`` and ``render_truth`` (:func:`render_clip`), ``import_clip``.
No torch here.
"""

from __future__ import annotations

from pathlib import Path

from motionmag.workflow.common import log, write_json


def render_clip(settings: dict, frames: str | Path, meta: str | Path, alpha: float = 1.0) -> None:
    """Render a synthetic clip (or, with ``alpha``, its ground truth magnified by alpha) to PNG frames."""
    from tqdm import tqdm

    from motionmag.synth.clips import DemoClip, DemoRenderer
    from motionmag.io import open_writer

    clip = DemoClip.from_dict(settings)
    renderer = DemoRenderer(clip)
    with open_writer(frames, clip.fps) as writer:
        for frame in tqdm(renderer.frames(alpha), total=clip.frames, desc=f"render x{alpha:g}"):
            writer.write(frame)
    obj, bg = renderer.displacements(alpha)
    payload = dict(fps=clip.fps, width=clip.width, height=clip.height, frames=clip.frames, render=clip.to_dict())
    payload.update(alpha=alpha, object_displacement=obj.tolist(), background_displacement=bg.tolist())
    write_json(meta, payload)
    log(f"rendered {clip.frames} frames {clip.width}x{clip.height} at x{alpha:g} -> {frames}")


def import_clip(source: str | Path, frames: str | Path, meta: str | Path, fps: float | None = None,
                max_frames: int | None = None, scale: float = 1.0) -> None:
    """Copy a video or frame folder to lossless PNG frames, optionally shortened and downscaled."""
    import cv2
    from tqdm import tqdm

    from motionmag.io import open_video, open_writer

    reader = open_video(source, fps=fps)
    total = min(len(reader), max_frames or len(reader))
    count, h, w = 0, reader.info.height, reader.info.width
    if scale != 1.0:
        h, w = max(2, round(h * scale)), max(2, round(w * scale))
    with open_writer(frames, reader.info.fps) as writer:
        for frame in tqdm(reader, total=total, desc="import"):
            if count == total:
                break
            if scale != 1.0:
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            writer.write(frame)
            count += 1
    write_json(meta, dict(fps=float(reader.info.fps), width=w, height=h, frames=count, source=str(source), render=None))
    log(f"imported {count} frames {w}x{h} from {source} -> {frames}")
