# One small result file per cell: clip x method x evaluation flow model x alpha; one job scores a
# magnified clip (or pair benchmark) under every evaluation flow model, so its frames are read once.


rule evaluate_cell:
    input:
        frames=clip_frames,
        meta=clip_meta,
        magnified="results/magnified/{clip}/{method}/x{alpha}",
        truth=truth_frames,
        weights=all_flow_weights,
        checkpoint=method_checkpoint,
    output:
        expand("results/eval/{{clip}}/{{method}}/{flow}/x{{alpha}}.csv", flow=FLOWS),
    log:
        "logs/evaluate_cell/{clip}/{method}/x{alpha}.log",
    benchmark:
        "benchmarks/evaluate_cell/{clip}/{method}/x{alpha}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=GPU_IF_NETWORK_FLOW,
        mem_mb=mem_mb(4000),
        runtime=30,
    params:
        flows=FLOWS,
        method_settings=lambda wildcards: config["methods"][wildcards.method],
        region_margin=config["evaluation"].get("region_margin", 8),
        device=config["device"],
        weights_manifest=WEIGHTS_MANIFEST,
        weights_dir=WEIGHTS_DIR,
    script:
        "../scripts/evaluate_cell.py"


# Pair benchmarks (FlowMag's test protocol): one cell per benchmark x method x flow model x alpha.
rule evaluate_pairs:
    input:
        pairs=pair_benchmark_file,
        magnified="results/magnified/{pairbench}/{method}/x{alpha}.h5",
        weights=all_flow_weights,
        checkpoint=method_checkpoint,
    output:
        expand(
            "results/eval/{{pairbench}}/{{method}}/{flow}/x{{alpha}}.csv", flow=FLOWS
        ),
    log:
        "logs/evaluate_pairs/{pairbench}/{method}/x{alpha}.log",
    benchmark:
        "benchmarks/evaluate_pairs/{pairbench}/{method}/x{alpha}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=GPU_IF_NETWORK_FLOW,
        mem_mb=mem_mb(4000),
        runtime=60,
    params:
        flows=FLOWS,
        pair_benchmark=lambda wildcards: PAIR_BENCHMARKS[wildcards.pairbench],
        method_settings=lambda wildcards: two_frame_settings(wildcards.method),
        device=config["device"],
        weights_manifest=WEIGHTS_MANIFEST,
        weights_dir=WEIGHTS_DIR,
        protocol=PROTOCOL,
    script:
        "../scripts/evaluate_pairs.py"


# Oh et al.'s sweeps: each method magnifies every sample by its own alpha; SSIM against the truth.
rule evaluate_sweep:
    input:
        samples="results/synthetic/{sweep}/manifest.json",
        checkpoint=method_checkpoint,
    output:
        "results/sweeps/{sweep}/{method}.csv",
    log:
        "logs/evaluate_sweep/{sweep}/{method}.log",
    benchmark:
        "benchmarks/evaluate_sweep/{sweep}/{method}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=gpu_if_learned,
        mem_mb=mem_mb(4000),
        runtime=120,
    params:
        settings=lambda wildcards: two_frame_settings(wildcards.method),
        border=config["evaluation"].get("sweep_border", 8),
        device=config["device"],
    script:
        "../scripts/evaluate_sweep.py"
