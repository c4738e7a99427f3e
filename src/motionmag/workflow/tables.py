"""Stage ``tables``: result cells into the papers' tables (CSV, Markdown, LaTeX), their HTML for
the Snakemake report, and the plots.

Rules: ``tables`` (every clip and pair-benchmark cell), ``sweep_table`` (one of Oh et al.'s
sweeps). No torch here (seconds of pandas and matplotlib).
"""

from __future__ import annotations

from pathlib import Path

from motionmag.workflow.common import log


def _read_cells(cell_paths: list[str | Path]):
    import pandas as pd

    return pd.concat([pd.read_csv(p) for p in cell_paths], ignore_index=True)


def _check_parallel(what: str, names: list, paths: list) -> None:
    if len(names) != len(paths):
        raise ValueError(f"tables: {len(names)} {what} but {len(paths)} files")


def tables(cells: list[str | Path], alphas: list[float], groups: list[str], cells_csv: str | Path,
           tables_dir: str | Path, stems: list[str], html: list[str | Path],
           plots: list[tuple[str, str]], plot_files: list[str | Path]) -> None:
    """Every clip and pair-benchmark cell into ``cells_csv`` and FlowMag-layout tables per group
    (``tables_dir/<stem>.{csv,md,tex}``); an HTML page per table stem (``html``, in the order of
    ``stems``) and a metric-vs-alpha plot per (group, metric) (``plot_files``, in the order of ``plots``)."""
    import pandas as pd

    from motionmag.report.plots import plot_metric_vs_alpha
    from motionmag.report.tables import collect_cells, describe_table, group_of, table_html, write_tables

    _check_parallel("table stems", stems, html)
    _check_parallel("plots", plots, plot_files)
    collected = collect_cells(cells)
    Path(tables_dir).mkdir(parents=True, exist_ok=True)
    collected.to_csv(cells_csv, index=False, float_format="%.6g")
    write_tables(collected, tables_dir, alphas, groups)
    for stem, page in zip(stems, html):
        table_html(Path(tables_dir) / f"{stem}.csv", page, *describe_table(stem))
    written = pd.read_csv(cells_csv)  # as the plots read it back: the rounding of the CSV
    for (group, metric), png in zip(plots, plot_files):
        plot_metric_vs_alpha(written[group_of(written) == group], metric, png, title=group)
    log(f"{len(collected)} cells -> {cells_csv}; {len(stems)} tables in {tables_dir}; {len(plot_files)} plots")


def sweep_table(cells: list[str | Path], stem: str | Path, name: str, html: str | Path, plot: str | Path) -> None:
    """A sweep's cells (one per method) into its SSIM table ``<stem>.{csv,md,tex}``, its HTML
    page (titled after ``name``, ``<sweep>/ssim``) and its plot."""
    from motionmag.report.plots import plot_sweep
    from motionmag.report.tables import describe_table, table_html, write_sweep_table

    rows = _read_cells(cells)
    write_sweep_table(rows, stem)
    table_html(f"{stem}.csv", html, *describe_table(name))
    plot_sweep(rows, plot)
    log(f"{len(cells)} methods, {len(rows)} rows -> {stem}.csv, {html}, {plot}")
