"""Plots of an :class:`~motionmag.analysis.analyzer.Analysis` (matplotlib, Agg: files only)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import cv2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

DPI = 80


def _panels(count: int, width: float = 3.3, height: float = 2.1):
    cols = min(3, max(1, count))
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def plot_displacement(analysis, path: str | Path) -> Path:
    """x and y displacement from frame 0 against time, one panel per region (and the camera)."""
    series = [(r.region.name, r.series) for r in analysis.regions]
    if analysis.stabilization is not None:
        series.append((f"camera (removed, {analysis.stabilization.model})", analysis.stabilization.shifts))
    fig, axes = _panels(len(series))
    t = np.arange(analysis.num_frames) / analysis.fps
    for ax, (name, s) in zip(axes, series):
        ax.plot(t, s[:, 0], lw=0.8, label="x")
        ax.plot(t, s[:, 1], lw=0.8, label="y")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper right")
    for ax in axes[-3:]:
        ax.set_xlabel("time (s)", fontsize=8)
    axes[0].set_ylabel("displacement (px)", fontsize=8)
    return _save(fig, path)


def plot_spectra(analysis, path: str | Path) -> Path:
    """Amplitude spectra (px), the peaks, each region's suggested band shaded, the map band dashed."""
    fig, axes = _panels(len(analysis.regions))
    for ax, r in zip(axes, analysis.regions):
        f = r.spectrum.freqs
        ax.plot(f[1:], r.spectrum.amplitude("total")[1:], lw=0.9, color="C0")
        if r.band is not None:
            ax.axvspan(*r.band, color="C2", alpha=0.25, lw=0)
        for b in analysis.map_band:
            ax.axvline(b, color="k", ls="--", lw=0.7)
        for p in r.peaks:
            ax.plot(p.frequency, r.spectrum.amplitude("total")[p.bin], "v", color="C3", ms=4)
            ax.annotate(f"{p.frequency:.2f} Hz\n{p.amplitude:.3g} px", (p.frequency, r.spectrum.amplitude("total")[p.bin]),
                        fontsize=6, xytext=(3, -2), textcoords="offset points", va="top")
        ax.set_xscale("log")  # magnification bands sit low: a log axis gives them room
        ax.set_xlim(analysis.resolution, analysis.nyquist)
        ax.set_title(r.region.name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel(f"frequency (Hz, log), bins {analysis.resolution:.3g} Hz", fontsize=8)
    axes[0].set_ylabel("amplitude (px)", fontsize=8)
    fig.suptitle("green: suggested band per region; dashed: analysis band", fontsize=8)
    return _save(fig, path)


def plot_map(analysis, path: str | Path) -> Path:
    """The band's amplitude map over the first frame, with the regions outlined."""
    frame = analysis.first_frame
    h, w = frame.shape[:2]
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    amplitude = analysis.amplitude_map
    up = cv2.resize(np.nan_to_num(amplitude, nan=0.0), (w, h), interpolation=cv2.INTER_LINEAR)
    valid = cv2.resize(np.isfinite(amplitude).astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    overlay = np.ma.masked_where(~valid, up)
    scale = 6.0 / max(w, h)
    fig, ax = plt.subplots(figsize=(max(3.0, w * scale + 1.2), max(2.0, h * scale)))
    ax.imshow(grey, cmap="gray", interpolation="bilinear")
    finite = amplitude[np.isfinite(amplitude)]
    vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    image = ax.imshow(overlay, cmap="inferno", alpha=0.6, vmin=0, vmax=max(vmax, 1e-6), interpolation="bilinear")
    fig.colorbar(image, ax=ax, fraction=0.035, pad=0.02).set_label("amplitude (px)", fontsize=8)
    for r in analysis.regions:
        x, y, rw, rh = r.region.bbox
        if r.region.mask is None:
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), rw, rh, fill=False, ec="cyan", lw=0.8))
        else:
            ax.contour(r.region.mask > 0.5, levels=[0.5], colors="cyan", linewidths=0.8)
        ax.text(x + 2, y + 2, r.region.name, color="cyan", fontsize=7, va="top")
    lo, hi = analysis.map_band
    ax.set_title(f"motion amplitude in {lo:.2f}-{hi:.2f} Hz", fontsize=9)
    ax.set_axis_off()
    return _save(fig, path)
