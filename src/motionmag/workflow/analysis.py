"""Stage ``analysis``: what moves in each clip, by how much and at which frequency, before and next
to its magnification (docs/analysis.md): per-region displacement, spectra, the suggested band and
the amplitude map, as CSV, JSON, PNG and one HTML page beside the side-by-side video.

Rule: ``analyze_clip``.
"""

from __future__ import annotations

from pathlib import Path

from motionmag.workflow.common import log, read_meta


def analyze_clip(frames: str | Path, meta: str | Path, out_dir: str | Path, settings: dict,
                 video: str | Path | None = None) -> None:
    """Analyse a clip's frame folder with the config's ``analysis`` settings (and the clip's own
    regions of interest, if it names some) into ``out_dir``."""
    from motionmag.analysis import analyze, write_report
    from motionmag.io import open_video

    fps = float(read_meta(meta)["fps"])
    result = analyze(
        open_video(frames, fps=fps), fps, settings.get("roi") or None,
        estimator=settings["estimator"], grid=tuple(settings["grid"]),
        stabilize=settings["stabilize"], still_region=settings.get("still_region"),
    )
    write_report(result, out_dir, video=video)
    band = "none found" if result.band is None else f"{result.band[0]:.2f}-{result.band[1]:.2f} Hz"
    log(f"analysed {len(result.regions)} regions of {frames}: suggested band {band} -> {out_dir}")
