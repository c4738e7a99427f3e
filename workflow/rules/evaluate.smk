# One small result file per cell: clip x method x evaluation flow model x alpha. One job scores a
# method's magnifications of a clip (or pair benchmark) at every alpha under every evaluation flow
# model: its frames are read once and the input's own motion is estimated once.


rule evaluate_cell:
    input:
        frames="results/clips/{clip}/frames",
        meta="results/clips/{clip}/meta.json",
        magnified=per_alpha("results/magnified/{clip}/{method}/x{alpha}"),
        truth=lambda w: (
            per_alpha(f"results/clips/{w.clip}/truth/x{{alpha}}")
            if w.clip in PLAN.rendered
            else []
        ),
        weights=all_flow_weights,
        checkpoint=method_checkpoint,
    output:
        cells("clip"),
    log:
        "logs/evaluate_cell/{clip}/{method}.log",
    benchmark:
        "benchmarks/evaluate_cell/{clip}/{method}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=int(PLAN.network_flows()),
        mem_mb=mem_mb(4000),
        runtime=30 * len(PLAN.alphas),
    params:
        flows=PLAN.flows,
        alphas=ALPHAS,
        method_settings=lambda wildcards: config["methods"][wildcards.method],
        region_margin=config["evaluation"]["region_margin"],
        device=config["device"],
        weights_manifest=PLAN.weights_manifest,
        weights_dir=PLAN.weights_dir,
    script:
        "../scripts/evaluate_cell.py"


# Pair benchmarks (FlowMag's test protocol): one cell per benchmark x method x flow model x alpha.
rule evaluate_pairs:
    input:
        pairs=lambda w: PLAN.pair_set_file(PLAN.pair_benchmarks[w.pairbench]["pairs"]),
        magnified=per_alpha("results/magnified/{pairbench}/{method}/x{alpha}.h5"),
        weights=all_flow_weights,
        checkpoint=method_checkpoint,
    output:
        cells("pairbench"),
    log:
        "logs/evaluate_pairs/{pairbench}/{method}.log",
    benchmark:
        "benchmarks/evaluate_pairs/{pairbench}/{method}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=int(PLAN.network_flows()),
        mem_mb=mem_mb(4000),
        runtime=60 * len(PLAN.alphas),
    params:
        flows=PLAN.flows,
        alphas=ALPHAS,
        pair_benchmark=lambda wildcards: PLAN.pair_benchmarks[wildcards.pairbench],
        method_settings=lambda wildcards: PLAN.two_frame_settings(wildcards.method),
        device=config["device"],
        weights_manifest=PLAN.weights_manifest,
        weights_dir=PLAN.weights_dir,
        protocol=PLAN.protocol,
    script:
        "../scripts/evaluate_pairs.py"


# Oh et al.'s sweeps: each method magnifies every sample by its own alpha; SSIM against the truth.
# One job per method scores every sweep (the method built once).
rule evaluate_sweep:
    input:
        samples=expand("results/synthetic/{sweep}/manifest.json", sweep=PLAN.sweeps),
        checkpoint=method_checkpoint,
    output:
        expand("results/sweeps/{sweep}/{{method}}.csv", sweep=PLAN.sweeps),
    log:
        "logs/evaluate_sweep/{method}.log",
    benchmark:
        "benchmarks/evaluate_sweep/{method}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 1  # locally two such jobs share the cores better than one at 2 threads; profiles set more
    resources:
        gpu=gpu_if_learned,
        mem_mb=mem_mb(4000),
        runtime=120 * len(PLAN.sweeps),
    params:
        sweeps=PLAN.sweeps,
        settings=lambda wildcards: PLAN.two_frame_settings(wildcards.method),
        border=config["evaluation"]["sweep_border"],
        protocols=[
            config["evaluation"]["sweep_protocols"].get(sweep, "oh")
            for sweep in PLAN.sweeps
        ],
        device=config["device"],
    script:
        "../scripts/evaluate_sweep.py"
