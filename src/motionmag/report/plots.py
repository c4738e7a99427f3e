"""Plots: each metric against alpha (one line per method, one panel per evaluation flow model),
SSIM against the sweep level (Oh et al.'s Fig. 8 style), training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from motionmag.report.tables import METRICS, SWEEP_LEVELS  # noqa: E402


def plot_metric_vs_alpha(cells: pd.DataFrame, metric: str, path: str | Path, title: str = "") -> Path:
    flows = sorted(cells["flow"].unique())
    fig, axes = plt.subplots(1, len(flows), figsize=(4.2 * len(flows), 3.4), squeeze=False, sharey=True)
    for ax, flow in zip(axes[0], flows):
        subset = cells[cells["flow"] == flow].groupby(["method", "alpha"])[metric].mean().reset_index()
        for method, rows in subset.groupby("method"):
            ax.plot(rows["alpha"], rows[metric], marker="o", label=method)
        if METRICS.get(metric, ("", ""))[1] == "alpha":
            alphas = sorted(cells["alpha"].unique())
            ax.plot(alphas, alphas, "k--", lw=0.8, label="ideal")
        ax.set_title(f"{title}, flow: {flow}" if title else f"flow: {flow}")
        ax.set_xlabel("alpha")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(METRICS.get(metric, (metric,))[0])
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_sweep(rows: pd.DataFrame, path: str | Path, score: str = "ssim") -> Path:
    """``score`` against the sweep level (log axis), one line per method with standard-error
    bars, the unmagnified input dashed."""
    kind = rows["sweep_kind"].iloc[0]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for method, r in rows.sort_values("level").groupby("method"):
        ax.errorbar(r["level"], r[score], yerr=r[f"{score}_sem"], marker="o", ms=3, capsize=2, label=method)
    base = rows.groupby("level")[f"input_{score}"].mean()
    ax.plot(base.index, base.values, "k--", lw=0.9, label="input (baseline)")
    ax.set_xscale("log")
    ax.set_xlabel(SWEEP_LEVELS.get(kind, "level"))
    ax.set_ylabel(f"{score.upper()} vs ground truth")
    ax.set_title(f"{kind} sweep")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_training_log(log_csv: str | Path, path: str | Path) -> Path:
    """Training curves from a trainer's log.csv: every metric against step, train and validation."""
    log = pd.read_csv(log_csv)
    skip = {"step", "samples", "split", "lr", "samples_per_s", "elapsed_s"}
    metrics = [c for c in log.columns if c not in skip and log[c].notna().any()]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.0 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for split, style in (("train", "-"), ("val", "o--")):
            rows = log[(log["split"] == split) & log[metric].notna()]
            if len(rows):
                ax.plot(rows["step"], rows[metric], style, label=split, lw=1.2, ms=3)
        ax.set_title(metric)
        ax.set_xlabel("step")
        if (log[metric].dropna() > 0).all():
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path
