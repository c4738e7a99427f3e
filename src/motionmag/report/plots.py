"""Plots: each metric against alpha, one line per method, one panel per evaluation flow model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from motionmag.report.tables import METRICS  # noqa: E402


def plot_metric_vs_alpha(cells: pd.DataFrame, metric: str, path: str | Path) -> Path:
    flows = sorted(cells["flow"].unique())
    fig, axes = plt.subplots(1, len(flows), figsize=(4.2 * len(flows), 3.4), squeeze=False, sharey=True)
    for ax, flow in zip(axes[0], flows):
        subset = cells[cells["flow"] == flow].groupby(["method", "alpha"])[metric].mean().reset_index()
        for method, rows in subset.groupby("method"):
            ax.plot(rows["alpha"], rows[metric], marker="o", label=method)
        if METRICS.get(metric, ("", ""))[1] == "alpha":
            alphas = sorted(cells["alpha"].unique())
            ax.plot(alphas, alphas, "k--", lw=0.8, label="ideal")
        ax.set_title(f"flow: {flow}")
        ax.set_xlabel("alpha")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(METRICS.get(metric, (metric,))[0])
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
