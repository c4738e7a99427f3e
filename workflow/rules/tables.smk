# Result cells -> the papers' tables (CSV, Markdown, LaTeX), their HTML for the report, and the
# plots: one job for the clip and pair-benchmark cells, one per sweep (each is seconds of work).


rule tables:
    input:
        PLAN.result_cells(),
    output:
        cells=report(
            "results/tables/cells.csv",
            caption="../report/cells.rst",
            category="1. Tables",
            labels={"table": "all cells"},
        ),
        tables=[
            f"results/tables/{stem}.{ext}"
            for stem in PLAN.table_stems()
            for ext in ("csv", "md", "tex")
        ],
        html=[
            report(
                f"results/tables/{stem}.html",
                caption="../report/table.rst",
                category="1. Tables",
                labels={"table": stem},
            )
            for stem in PLAN.table_stems()
        ],
        plots=[
            report(
                f"results/plots/{group}/{metric}_vs_alpha.png",
                caption="../report/plot.rst",
                category="2. Plots",
                labels={"benchmark": group, "metric": metric},
            )
            for group, metric in PLAN.plots()
        ],
    log:
        "logs/tables/tables.log",
    conda:
        "../../envs/motionmag.yaml"
    params:
        alphas=config["alphas"],
        groups=PLAN.groups,
        tables_dir=lambda wildcards, output: os.path.dirname(output.cells),
        stems=PLAN.table_stems(),  # one per html output, in order
        plots=PLAN.plots(),  # (group, metric), one per plot output, in order
    script:
        "../scripts/tables.py"


rule sweep_table:
    input:
        lambda w: [f"results/sweeps/{w.sweep}/{m}.csv" for m in PLAN.methods],
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
    params:
        stem=lambda wildcards, output: os.path.splitext(output.html)[0],
        name="{sweep}/ssim",  # the table's title and note
    script:
        "../scripts/sweep_table.py"
