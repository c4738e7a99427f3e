# Result cells -> paper-style tables (CSV, Markdown, LaTeX) and plots.


rule tables:
    input:
        result_cells(),
    output:
        cells=report(
            "results/tables/cells.csv",
            caption="../report/cells.rst",
            category="Tables",
            labels={"table": "all cells"},
        ),
        tables=table_files(),
    log:
        "logs/tables/tables.log",
    conda:
        "../../envs/motionmag.yaml"
    params:
        alphas=config["alphas"],
    script:
        "../scripts/tables.py"


rule table_report:
    input:
        "results/tables/{metric}_x{alpha}.csv",
    output:
        report(
            "results/tables/{metric}_x{alpha}.html",
            caption="../report/table.rst",
            category="Tables",
            labels={"metric": "{metric}", "alpha": "{alpha}"},
        ),
    log:
        "logs/table_report/{metric}_x{alpha}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/table_html.py"


rule plot:
    input:
        "results/tables/cells.csv",
    output:
        report(
            "results/plots/{metric}_vs_alpha.png",
            caption="../report/plot.rst",
            category="Plots",
            labels={"metric": "{metric}"},
        ),
    log:
        "logs/plot/{metric}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/plot.py"
