# Result cells -> the papers' tables (CSV, Markdown, LaTeX), HTML for the report, and plots.


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
        multiext("results/tables/{sweep}/ssim", ".csv", ".md", ".tex"),
    log:
        "logs/sweep_table/{sweep}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/sweep_table.py"


rule table_html:
    input:
        "results/tables/{table}.csv",
    output:
        report(
            "results/tables/{table}.html",
            caption="../report/table.rst",
            category="1. Tables",
            labels={"table": "{table}"},
        ),
    log:
        "logs/table_html/{table}.log",
    wildcard_constraints:
        table="[A-Za-z0-9_-]+/[a-z_]+(_x[0-9.e+-]+)?",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/table_html.py"


rule plot:
    input:
        "results/tables/cells.csv",
    output:
        report(
            "results/plots/{group}/{metric}_vs_alpha.png",
            caption="../report/plot.rst",
            category="2. Plots",
            labels={"benchmark": "{group}", "metric": "{metric}"},
        ),
    log:
        "logs/plot/{group}/{metric}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/plot.py"


rule sweep_plot:
    input:
        sweep_cells,
    output:
        report(
            "results/plots/{sweep}/ssim.png",
            caption="../report/sweep_plot.rst",
            category="2. Plots",
            labels={"benchmark": "{sweep}", "metric": "ssim"},
        ),
    log:
        "logs/sweep_plot/{sweep}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/sweep_plot.py"
