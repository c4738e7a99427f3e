# Every clip x method x alpha, magnified to lossless PNG frames and a playable video, plus what
# people look at.


rule magnify:
    input:
        frames=clip_frames,
        meta=clip_meta,
        checkpoint=method_checkpoint,
    output:
        frames=directory("results/magnified/{clip}/{method}/x{alpha}"),
        video=report(
            "results/videos/{clip}/{method}_x{alpha}.mp4",
            caption="../report/video.rst",
            category="3. Videos",
            subcategory="{clip}",
            labels={"clip": "{clip}", "method": "{method}", "alpha": "{alpha}"},
        ),
    log:
        "logs/magnify/{clip}/{method}/x{alpha}.log",
    benchmark:
        "benchmarks/magnify/{clip}/{method}/x{alpha}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=gpu_if_learned,
        mem_mb=mem_mb(4000),
        runtime=60,
    params:
        settings=lambda wildcards: method_settings(wildcards.method),
        device=config["device"],
        crf=config["videos"]["crf"],
    script:
        "../scripts/magnify.py"


# what people look at: every method next to the input, as a video and as x-t slices
rule side_by_side:
    input:
        frames=clip_frames,
        meta=clip_meta,
        magnified=magnified_all_methods,
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
        + [f"{m} x{wildcards.alpha}" for m in METHODS],
        crf=config["videos"]["crf"],
    script:
        "../scripts/side_by_side.py"


# Pair benchmarks: every pair (cropped as the benchmark says) magnified as a two-frame clip.
rule magnify_pairs:
    input:
        pairs=pair_benchmark_file,
        checkpoint=method_checkpoint,
    output:
        "results/magnified/{pairbench}/{method}/x{alpha}.h5",
    log:
        "logs/magnify_pairs/{pairbench}/{method}/x{alpha}.log",
    benchmark:
        "benchmarks/magnify_pairs/{pairbench}/{method}/x{alpha}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=gpu_if_learned,
        mem_mb=mem_mb(4000),
        runtime=60,
    params:
        pair_benchmark=lambda wildcards: PAIR_BENCHMARKS[wildcards.pairbench],
        settings=lambda wildcards: two_frame_settings(wildcards.method),
        device=config["device"],
        protocol=PROTOCOL,
    script:
        "../scripts/magnify_pairs.py"
