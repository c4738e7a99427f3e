"""``write_report``: an analysis as files, CSV (series, spectra), JSON (every number), PNG plots,
the amplitude map as .npy, and one self-contained HTML page (plots inlined) next to the video."""

from __future__ import annotations

import base64
import csv
import html
import json
import os
from pathlib import Path

import numpy as np

from motionmag.errors import MotionmagError

FILES = {
    "series": "series.csv",
    "spectra": "spectra.csv",
    "json": "analysis.json",
    "map_npy": "amplitude_map.npy",
    "displacement": "displacement.png",
    "spectrum": "spectrum.png",
    "map": "map.png",
    "html": "index.html",
}


def write_report(analysis, out_dir: str | Path, video: str | Path | None = None) -> dict[str, Path]:
    """Write the report files into ``out_dir`` (created); returns their paths by kind.

    video: a (magnified) video to show next to the plots: the page links it by a relative path.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MotionmagError(f"{out}: cannot create the report folder ({err.strerror})") from None
    from motionmag.analysis.plots import plot_displacement, plot_map, plot_spectra  # matplotlib only when plotting

    paths = {kind: out / name for kind, name in FILES.items()}
    _write_series(analysis, paths["series"])
    _write_spectra(analysis, paths["spectra"])
    np.save(paths["map_npy"], analysis.amplitude_map)
    plot_displacement(analysis, paths["displacement"])
    plot_spectra(analysis, paths["spectrum"])
    plot_map(analysis, paths["map"])
    data = analysis.to_dict()
    data["files"] = {kind: path.name for kind, path in paths.items()}
    if video is not None:
        data["video"] = str(video)
    paths["json"].write_text(json.dumps(data, indent=2) + "\n")
    paths["html"].write_text(_html(analysis, data, paths, video, out))
    return paths


def _write_series(analysis, path: Path) -> None:
    header = ["frame", "time_s"] + [f"{r.region.name}_{axis}" for r in analysis.regions for axis in ("x", "y")]
    columns = [r.series for r in analysis.regions]
    if analysis.stabilization is not None:
        header += ["camera_x", "camera_y"]
        columns.append(analysis.stabilization.shifts)
    table = np.concatenate(columns, axis=1) if columns else np.zeros((analysis.num_frames, 0))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for t, row in enumerate(table):
            writer.writerow([t, f"{t / analysis.fps:.5f}"] + [f"{v:.5f}" for v in row])


def _write_spectra(analysis, path: Path) -> None:
    if not analysis.regions:
        return
    freqs = analysis.regions[0].spectrum.freqs
    header = ["frequency_hz"] + [f"{r.region.name}_{c}_px" for r in analysis.regions for c in ("x", "y", "total")]
    columns = [r.spectrum.amplitude(c) for r in analysis.regions for c in ("x", "y", "total")]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, f in enumerate(freqs):
            writer.writerow([f"{f:.5f}"] + [f"{c[i]:.6g}" for c in columns])


def _img(path: Path, alt: str) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _fmt_band(band) -> str:
    return "none" if band is None else f"{band[0]:.2f}-{band[1]:.2f} Hz"


def _html(analysis, data: dict, paths: dict, video, out: Path) -> str:
    rows = []
    for r in analysis.regions:
        peaks = "; ".join(f"{p.frequency:.2f} Hz, {p.amplitude:.3g} px, {p.direction:.0f}°" for p in r.peaks) or "none"
        x, y, w, h = r.region.bbox
        rows.append(
            f"<tr><td>{html.escape(r.region.name)}</td><td>{x},{y},{w},{h}</td><td>{html.escape(peaks)}</td>"
            f"<td>{_fmt_band(r.band)}</td><td>{r.band_amplitude:.3g}</td></tr>"
        )
    video_html = ""
    if video is not None:
        src = os.path.relpath(Path(video).resolve(), out.resolve())
        video_html = f'<h2>Magnified video</h2><video controls loop muted src="{html.escape(Path(src).as_posix())}" style="max-width:100%"></video>'
    stab = ""
    if analysis.stabilization is not None:
        s = data["stabilization"]
        stab = f"<p>Stabilised ({s['model']}): camera motion removed RMS {s['rms_px']:.3g} px, largest {s['max_px']:.3g} px.</p>"
    est = data["estimator"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Motion analysis</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}.row{{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}}</style></head>
<body>
<h1>Motion analysis</h1>
<p>{analysis.num_frames} frames, {analysis.width}x{analysis.height}, {analysis.fps:g} fps; estimator
<b>{html.escape(str(est.get("name")))}</b>; Welch segments of {analysis.nperseg} frames: resolution
{analysis.resolution:.3g} Hz, Nyquist {analysis.nyquist:g} Hz. Displacement is measured from frame 0.</p>
<p><b>Suggested band: {_fmt_band(analysis.band)}</b>. Map and band amplitudes in {_fmt_band(analysis.map_band)}.</p>
{stab}
<div class="row"><div>{video_html}</div><div>{_img(paths["map"], "amplitude map")}</div></div>
<h2>Regions</h2>
<table><tr><th>region</th><th>x,y,w,h</th><th>peaks (frequency, amplitude, direction)</th><th>suggested band</th><th>amplitude in band (px)</th></tr>
{"".join(rows)}</table>
<h2>Spectra</h2>{_img(paths["spectrum"], "spectra")}
<h2>Displacement</h2>{_img(paths["displacement"], "displacement")}
<p>Data: <a href="{FILES["json"]}">{FILES["json"]}</a>, <a href="{FILES["series"]}">{FILES["series"]}</a>,
<a href="{FILES["spectra"]}">{FILES["spectra"]}</a>.</p>
</body></html>
"""
