# Demo clips: rendered with known motion (and their magnified ground truth), or imported.


rule render_clip:
    output:
        frames=directory("results/clips/{clip}/frames"),
        meta="results/clips/{clip}/meta.json",
    log:
        "logs/render_clip/{clip}.log",
    wildcard_constraints:
        clip=one_of(PLAN.rendered),
    conda:
        "../../envs/motionmag.yaml"
    params:
        settings=lambda wildcards: config["clips"][wildcards.clip]["render"],
    script:
        "../scripts/render_clip.py"


rule render_truth:
    output:
        frames=directory("results/clips/{clip}/truth/x{alpha}"),
        meta="results/clips/{clip}/truth/x{alpha}.json",
    log:
        "logs/render_truth/{clip}/x{alpha}.log",
    wildcard_constraints:
        clip=one_of(PLAN.rendered),
    conda:
        "../../envs/motionmag.yaml"
    params:
        settings=lambda wildcards: config["clips"][wildcards.clip]["render"],
    script:
        "../scripts/render_clip.py"


rule import_clip:
    input:
        lambda wildcards: config["clips"][wildcards.clip]["path"],
    output:
        frames=directory("results/clips/{clip}/frames"),
        meta="results/clips/{clip}/meta.json",
    log:
        "logs/import_clip/{clip}.log",
    wildcard_constraints:
        clip=one_of(PLAN.imported),
    conda:
        "../../envs/motionmag.yaml"
    params:
        fps=lambda wildcards: config["clips"][wildcards.clip].get("fps"),
        max_frames=lambda wildcards: config["clips"][wildcards.clip].get("max_frames"),
        scale=lambda wildcards: config["clips"][wildcards.clip]["scale"],
    script:
        "../scripts/import_clip.py"
