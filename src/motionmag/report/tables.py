"""Result cells (one CSV row per benchmark x method x flow model x alpha) -> paper-style tables.

FlowMag's layout: methods in rows, evaluation flow models in columns, one table per metric and
alpha; each entry is the mean over clips, with the standard error over pairs when one clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

# metric -> (title, "lower" or "higher" is better)
METRICS = {
    "motion_error": ("Motion error (px)", "lower"),
    "magnification_error": ("Magnification error", "lower"),
    "ssim": ("SSIM vs ground truth", "higher"),
    "psnr": ("PSNR vs ground truth (dB)", "higher"),
    "amplification_object": ("Measured amplification of the object", "alpha"),
}


def collect_cells(paths: Iterable[str | Path]) -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise ValueError("no result cells to collect")
    return pd.concat(frames, ignore_index=True).sort_values(["benchmark", "method", "flow", "alpha"], ignore_index=True)


def metric_table(cells: pd.DataFrame, metric: str, alpha: float) -> pd.DataFrame:
    """Methods x flow models, mean of ``metric`` over the benchmarks, at one alpha."""
    subset = cells[cells["alpha"] == alpha]
    table = subset.pivot_table(index="method", columns="flow", values=metric, aggfunc="mean")
    table.columns.name = None
    return table


def write_table(table: pd.DataFrame, stem: str | Path, caption: str) -> list[Path]:
    """Write ``stem``.csv, .md and .tex; returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(stem.with_suffix(".csv"), float_format="%.4f")
    stem.with_suffix(".md").write_text(f"### {caption}\n\n{table.to_markdown(floatfmt='.4f')}\n")
    latex = table.to_latex(float_format="%.4f", caption=caption, label=f"tab:{stem.name}", na_rep="--")
    stem.with_suffix(".tex").write_text(latex)
    return [stem.with_suffix(s) for s in (".csv", ".md", ".tex")]


def write_tables(cells: pd.DataFrame, out_dir: str | Path, alphas: Iterable[float]) -> list[Path]:
    """One table per metric and alpha: ``<metric>_x<alpha>.{csv,md,tex}`` (empty entries where a metric
    does not apply, e.g. SSIM without ground truth)."""
    written = []
    for metric, (title, better) in METRICS.items():
        if metric not in cells:
            cells = cells.assign(**{metric: float("nan")})
        for alpha in alphas:
            hint = "closer to alpha is better" if better == "alpha" else f"{better} is better"
            caption = f"{title} at alpha = {alpha:g} ({hint}); rows: methods, columns: evaluation flow models"
            written += write_table(metric_table(cells, metric, alpha), Path(out_dir) / f"{metric}_x{alpha:g}", caption)
    return written


def table_html(csv_path: str | Path, html_path: str | Path, metric: str, alpha: float) -> None:
    """A small standalone HTML page of one table, for the Snakemake report."""
    table = pd.read_csv(csv_path, index_col=0)
    title, better = METRICS.get(metric, (metric, ""))
    hint = "closer to alpha is better" if better == "alpha" else f"{better} is better"
    body = table.to_html(float_format=lambda v: f"{v:.4f}", na_rep="–", border=0)
    style = "body{font-family:sans-serif} table{border-collapse:collapse} td,th{padding:4px 10px;border-bottom:1px solid #ccc;text-align:right}"
    Path(html_path).write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>"
        f"<h3>{title}, alpha = {alpha:g}</h3><p>{hint}; rows: methods, columns: evaluation flow models; mean over clips.</p>"
        f"{body}</body></html>"
    )
