# Demo clips: rendered with known motion (and their magnified ground truth), or imported.


rule render_clip:
    output:
        frames=directory("results/clips/{clip}/frames"),
        meta="results/clips/{clip}/meta.json",
    params:
        settings=lambda wildcards: config["clips"][wildcards.clip]["render"],
    wildcard_constraints:
        clip=one_of(RENDERED),
    log:
        "logs/render_clip/{clip}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/render_clip.py"


rule render_truth:
    output:
        frames=directory("results/clips/{clip}/truth/x{alpha}"),
        meta="results/clips/{clip}/truth/x{alpha}.json",
    params:
        settings=lambda wildcards: config["clips"][wildcards.clip]["render"],
    wildcard_constraints:
        clip=one_of(RENDERED),
    log:
        "logs/render_truth/{clip}/x{alpha}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/render_clip.py"


rule import_clip:
    input:
        lambda wildcards: config["clips"][wildcards.clip]["path"],
    output:
        frames=directory("results/clips/{clip}/frames"),
        meta="results/clips/{clip}/meta.json",
    params:
        fps=lambda wildcards: config["clips"][wildcards.clip].get("fps"),
        max_frames=lambda wildcards: config["clips"][wildcards.clip].get("max_frames"),
        scale=lambda wildcards: config["clips"][wildcards.clip].get("scale", 1.0),
    wildcard_constraints:
        clip=one_of(IMPORTED),
    log:
        "logs/import_clip/{clip}.log",
    conda:
        "../../envs/motionmag.yaml"
    script:
        "../scripts/import_clip.py"
