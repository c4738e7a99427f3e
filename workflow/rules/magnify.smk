# Every clip x method x alpha, magnified to lossless PNG frames and a playable video, plus what
# people look at. One job per clip and method magnifies every alpha (the method is built once).


rule magnify:
    input:
        frames="results/clips/{clip}/frames",
        meta="results/clips/{clip}/meta.json",
        checkpoint=method_checkpoint,
    output:
        frames=directory(per_alpha("results/magnified/{clip}/{method}/x{alpha}")),
        videos=[
            report(
                f"results/videos/{{clip}}/{{method}}_x{alpha}.mp4",
                caption="../report/video.rst",
                category="3. Videos",
                subcategory="{clip}",
                labels={"clip": "{clip}", "method": "{method}", "alpha": alpha},
            )
            for alpha in PLAN.alphas
        ],
    log:
        "logs/magnify/{clip}/{method}.log",
    benchmark:
        "benchmarks/magnify/{clip}/{method}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=gpu_if_learned,
        mem_mb=mem_mb(4000),
        runtime=60 * len(PLAN.alphas),
    params:
        alphas=ALPHAS,
        settings=lambda wildcards: PLAN.method_settings(wildcards.method),
        device=config["device"],
        crf=config["videos"]["crf"],
    script:
        "../scripts/magnify.py"


# what people look at: every method next to the input, as a video and as x-t slices
rule side_by_side:
    input:
        frames="results/clips/{clip}/frames",
        meta="results/clips/{clip}/meta.json",
        magnified=lambda w: [
            f"results/magnified/{w.clip}/{m}/x{w.alpha}"
            for m in PLAN.methods_on(w.clip)
        ],
    output:
        video=report(
            "results/videos/{clip}/side_by_side_x{alpha}.mp4",
            caption="../report/side_by_side.rst",
            category="3. Videos",
            subcategory="{clip}",
            labels={"clip": "{clip}", "method": "all", "alpha": "{alpha}"},
        ),
        slices=report(
            "results/slices/{clip}/x{alpha}.png",
            caption="../report/xt_slice.rst",
            category="4. x-t slices",
            labels={"clip": "{clip}", "alpha": "{alpha}"},
        ),
    log:
        "logs/side_by_side/{clip}/x{alpha}.log",
    conda:
        "../../envs/motionmag.yaml"
    params:
        labels=lambda wildcards: ["input"]
        + [f"{m} x{wildcards.alpha}" for m in PLAN.methods_on(wildcards.clip)],
        crf=config["videos"]["crf"],
    script:
        "../scripts/side_by_side.py"


# Pair benchmarks: every pair (cropped as the benchmark says) magnified as a two-frame clip, at
# every alpha.
rule magnify_pairs:
    input:
        pairs=lambda w: PLAN.pair_set_file(PLAN.pair_benchmarks[w.pairbench]["pairs"]),
        checkpoint=method_checkpoint,
    output:
        per_alpha("results/magnified/{pairbench}/{method}/x{alpha}.h5"),
    log:
        "logs/magnify_pairs/{pairbench}/{method}.log",
    benchmark:
        "benchmarks/magnify_pairs/{pairbench}/{method}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=gpu_if_learned,
        mem_mb=mem_mb(4000),
        runtime=60 * len(PLAN.alphas),
    params:
        alphas=ALPHAS,
        pair_benchmark=lambda wildcards: PLAN.pair_benchmarks[wildcards.pairbench],
        settings=lambda wildcards: PLAN.two_frame_settings(wildcards.method),
        device=config["device"],
        protocol=PLAN.protocol,
    script:
        "../scripts/magnify_pairs.py"
