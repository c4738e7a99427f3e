"""Result cells -> the papers' tables, as CSV (numbers), Markdown and LaTeX (mean ± standard error).

- FlowMag's layout: methods in rows, evaluation flow models in columns, one table per metric and
  alpha, for each benchmark group: ``clips`` (every clip cell, mean over clips) and each pair
  benchmark (mean over its pairs ± the standard error over pairs, as FlowMag's eval.py prints).
- Oh et al.'s sweeps: SSIM against the ground truth per sweep level (input motion, or noise
  factor) in rows, methods in columns, plus the unmagnified input as the baseline.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import pandas as pd

# metric -> (title, "lower" or "higher" is better, or "alpha": closer to alpha is better)
METRICS = {
    "motion_error": ("Motion error (px)", "lower"),
    "magnification_error": ("Magnification error", "lower"),
    "ssim": ("SSIM vs ground truth", "higher"),
    "psnr": ("PSNR vs ground truth (dB)", "higher"),
    "amplification_object": ("Measured amplification of the object", "alpha"),
}
# the metrics a pair benchmark has (no ground truth, no known motion)
PAIR_METRICS = ("motion_error", "magnification_error")
CLIPS = "clips"  # the group of every clip benchmark
SWEEP_LEVELS = {"subpixel": "input motion (px)", "noise": "noise factor"}


def collect_cells(paths: Iterable[str | Path]) -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise ValueError("no result cells to collect")
    cells = pd.concat(frames, ignore_index=True)
    if "kind" not in cells:
        cells["kind"] = "clip"
    return cells.sort_values(["benchmark", "method", "flow", "alpha"], ignore_index=True)


def group_of(cells: pd.DataFrame) -> pd.Series:
    """Each cell's table group: ``clips`` for a clip, the benchmark's name for a pair benchmark."""
    return cells["benchmark"].where(cells["kind"] != "clip", CLIPS)


def group_metrics(group: str) -> tuple[str, ...]:
    return tuple(METRICS) if group == CLIPS else PAIR_METRICS


def hint(metric: str) -> str:
    better = METRICS.get(metric, ("", "lower"))[1]
    return "closer to alpha is better" if better == "alpha" else f"{better} is better"


def metric_table(cells: pd.DataFrame, metric: str, alpha: float) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Methods x flow models at one alpha: the mean of ``metric`` over the benchmarks, and the
    standard error over pairs when the cells come from one pair benchmark (else None)."""
    subset = cells[cells["alpha"] == alpha]
    table = subset.pivot_table(index="method", columns="flow", values=metric, aggfunc="mean", dropna=False)
    table.columns.name = None
    sem = None
    if subset["benchmark"].nunique() == 1 and (subset["kind"] != "clip").all() and f"{metric}_sem" in subset:
        sem = subset.pivot_table(index="method", columns="flow", values=f"{metric}_sem", aggfunc="mean", dropna=False)
        sem.columns.name = None
        sem = sem.reindex_like(table)
    return table, sem


def with_errors(table: pd.DataFrame, sem: pd.DataFrame | None, digits: int = 4) -> pd.DataFrame:
    """The table as text, "mean ± sem" where a standard error is known, "–" where nothing is."""

    def cell(mean, err):
        if mean is None or (isinstance(mean, float) and math.isnan(mean)):
            return "–"
        text = f"{mean:.{digits}f}"
        if err is not None and not (isinstance(err, float) and math.isnan(err)):
            text += f" ± {err:.{digits}f}"
        return text

    out = table.copy().astype(object)
    for r in table.index:
        for c in table.columns:
            out.loc[r, c] = cell(table.loc[r, c], None if sem is None else sem.loc[r, c])
    return out


_LATEX_SPECIAL = {c: "\\" + c for c in "_%&#{}$"}


def latex_escape(text: str) -> str:
    """Plain text (names like flowmag_test) safe inside LaTeX, ± as $\\pm$."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in str(text)).replace("±", r"$\pm$").replace("–", "--")


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_table(table: pd.DataFrame, stem: str | Path, caption: str, sem: pd.DataFrame | None = None) -> list[Path]:
    """Write ``stem``.csv (the means), .md and .tex (mean ± sem); returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv, md, tex = (stem.with_name(stem.name + ext) for ext in (".csv", ".md", ".tex"))  # alpha 1.5 keeps its ".5"
    _write_text(csv, table.to_csv(float_format="%.6g"))
    text = with_errors(table, sem)
    _write_text(md, f"### {caption}\n\n{text.to_markdown()}\n")
    escaped = text.rename(index=latex_escape, columns=latex_escape).map(latex_escape)
    escaped.index.name = latex_escape(text.index.name) if text.index.name else None
    latex = escaped.to_latex(caption=latex_escape(caption), label=f"tab:{stem.parent.name}-{stem.name}".replace("_", "-"))
    _write_text(tex, latex)
    return [csv, md, tex]


def partial_coverage(rows: pd.DataFrame) -> pd.Series:
    """Method names, with "(n of N clips)" for a method magnified on fewer clips than the others
    (a method's ``clips`` in the config), since its row is a mean over those clips only."""
    clips = rows.groupby("method")["benchmark"].nunique()
    total = rows["benchmark"].nunique()
    labels = {m: m if n == total else f"{m} ({n} of {total} clips)" for m, n in clips.items()}
    return rows["method"].map(labels)


def table_stems(groups: Iterable[str], alphas: Iterable[float]) -> list[str]:
    """``<group>/<metric>_x<alpha>`` for every table :func:`write_tables` writes."""
    return [f"{g}/{m}_x{a:g}" for g in groups for m in group_metrics(g) for a in alphas]


def write_tables(cells: pd.DataFrame, out_dir: str | Path, alphas: Iterable[float], groups: Iterable[str] | None = None) -> list[Path]:
    """One table per group, metric and alpha: ``<group>/<metric>_x<alpha>.{csv,md,tex}`` (empty
    entries where a metric does not apply, e.g. SSIM of a real clip without ground truth)."""
    cells = cells.assign(group=group_of(cells))
    written = []
    for group in groups if groups is not None else sorted(cells["group"].unique()):
        rows = cells[cells["group"] == group]
        if group == CLIPS:
            rows = rows.assign(method=partial_coverage(rows))
        for metric in group_metrics(group):
            if metric not in rows:
                rows = rows.assign(**{metric: float("nan")})
            for alpha in alphas:
                table, sem = metric_table(rows, metric, alpha)
                where = "mean over clips" if group == CLIPS else f"{group}, mean ± standard error over pairs"
                caption = (f"{METRICS[metric][0]} at alpha = {alpha:g} ({hint(metric)}); {where}; "
                           "rows: methods, columns: evaluation flow models")
                written += write_table(table, Path(out_dir) / group / f"{metric}_x{alpha:g}", caption, sem)
    return written


def sweep_table(rows: pd.DataFrame, score: str = "ssim") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oh et al.'s layout from sweep cells (one row per method and level): levels in rows; the
    alpha used, every method and the unmagnified input in columns; means and standard errors."""
    kind = rows["sweep_kind"].iloc[0]
    level = SWEEP_LEVELS.get(kind, "level")
    mean = rows.pivot_table(index="level", columns="method", values=score, aggfunc="mean")
    sem = rows.pivot_table(index="level", columns="method", values=f"{score}_sem", aggfunc="mean")
    baseline = rows.groupby("level")[[f"input_{score}", f"input_{score}_sem"]].mean() if f"input_{score}" in rows else None
    if baseline is not None:
        mean["input"], sem["input"] = baseline[f"input_{score}"], baseline[f"input_{score}_sem"]
    alpha = rows.groupby("level")["alpha"].first()
    mean.insert(0, "alpha", alpha)
    sem.insert(0, "alpha", float("nan"))
    for t in (mean, sem):
        t.index.name, t.columns.name = level, None
    return mean, sem


def write_sweep_table(rows: pd.DataFrame, stem: str | Path, score: str = "ssim") -> list[Path]:
    mean, sem = sweep_table(rows, score)
    kind = rows["sweep_kind"].iloc[0]
    caption = (f"{score.upper()} against the ground truth per {SWEEP_LEVELS.get(kind, 'level')} ({kind} sweep, "
               f"{int(rows['samples'].iloc[0])} scenes per level, mean ± standard error); "
               "input: the unmagnified frame, the baseline")
    return write_table(mean, stem, caption, sem)


def table_html(csv_path: str | Path, html_path: str | Path, title: str, note: str = "") -> None:
    """A small standalone HTML page of one table, for the Snakemake report."""
    table = pd.read_csv(csv_path, index_col=0)
    body = table.to_html(float_format=lambda v: f"{v:.4f}", na_rep="–", border=0)
    style = "body{font-family:sans-serif} table{border-collapse:collapse} td,th{padding:4px 10px;border-bottom:1px solid #ccc;text-align:right}"
    _write_text(Path(html_path), 
        f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>"
        f"<h3>{title}</h3><p>{note}</p>{body}</body></html>"
    )


def describe_table(stem: str) -> tuple[str, str]:
    """Title and note of a table from its path stem ``<group>/<metric>_x<alpha>`` or ``<sweep>/ssim``."""
    group, name = stem.split("/")[-2:]
    if "_x" in name:
        metric, alpha = name.rsplit("_x", 1)
        title = f"{METRICS.get(metric, (metric,))[0]}, alpha = {alpha} ({group})"
        return title, f"{hint(metric)}; rows: methods, columns: evaluation flow models"
    return f"{name.upper()} per sweep level ({group})", "rows: sweep levels; columns: alpha used, methods, the unmagnified input"
