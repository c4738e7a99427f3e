# Motion analysis of every clip before it is magnified (docs/analysis.md): displacement per
# region, spectra, the suggested band, the amplitude map; an HTML page beside the side-by-side video.

from pathlib import Path


rule analyze_clip:
    input:
        frames="results/clips/{clip}/frames",
        meta="results/clips/{clip}/meta.json",
        video=lambda w: f"results/videos/{w.clip}/side_by_side_x{PLAN.alphas[-1]}.mp4",
    output:
        page="results/analysis/{clip}/index.html",
        numbers="results/analysis/{clip}/analysis.json",
        series="results/analysis/{clip}/series.csv",
        spectra="results/analysis/{clip}/spectra.csv",
        amplitude_map="results/analysis/{clip}/amplitude_map.npy",
        plots=[
            report(
                f"results/analysis/{{clip}}/{plot}.png",
                caption="../report/analysis.rst",
                category="7. Motion analysis",
                subcategory="{clip}",
                labels={"clip": "{clip}", "plot": plot},
            )
            for plot in ("displacement", "spectrum", "map")
        ],
    log:
        "logs/analyze_clip/{clip}.log",
    conda:
        "../../envs/motionmag.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(2000),
        runtime=60,
    params:
        settings=lambda w: PLAN.analysis_settings(w.clip),
        out_dir=lambda w, output: str(Path(output.page).parent),
    script:
        "../scripts/analyze_clip.py"
