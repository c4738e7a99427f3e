# Result cells -> the papers' tables (CSV, Markdown, LaTeX), their HTML for the report, and the
# plots: one job for the clip and pair-benchmark cells, one per sweep (each is seconds of work).


rule tables:
    input:
        result_cells(),
    output:
        cells=report(
            "results/tables/cells.csv",
            caption="../report/cells.rst",
            category="1. Tables",
            labels={"table": "all cells"},
        ),
        tables=table_files(),
        html=[
            report(
                f"results/tables/{stem}.html",
                caption="../report/table.rst",
                category="1. Tables",
                labels={"table": stem},
            )
            for stem in table_stems_of(GROUPS, [float(a) for a in ALPHAS])
        ],
        plots=[
            report(
                f"results/plots/{group}/{metric}_vs_alpha.png",
                caption="../report/plot.rst",
                category="2. Plots",
                labels={"benchmark": group, "metric": metric},
            )
            for group in GROUPS
            for metric in group_metrics(group)
        ],
    log:
        "logs/tables/tables.log",
    conda:
        "../../envs/motionmag.yaml"
    params:
        alphas=config["alphas"],
        groups=GROUPS,
    script:
        "../scripts/tables.py"


rule sweep_table:
    input:
        sweep_cells,
    output:
        tables=multiext("results/tables/{sweep}/ssim", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/{sweep}/ssim.html",
            caption="../report/table.rst",
            category="1. Tables",
            labels={"table": "{sweep}/ssim"},
        ),
        plot=report(
            "results/plots/{sweep}/ssim.png",
            caption="../report/sweep_plot.rst",
            category="2. Plots",
            labels={"benchmark": "{sweep}", "metric": "ssim"},
        ),
    log:
        "logs/sweep_table/{sweep}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/sweep_table.py"
