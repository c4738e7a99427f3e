# One small result file per cell: clip x method x evaluation flow model x alpha.


rule evaluate_cell:
    input:
        frames=clip_frames,
        meta=clip_meta,
        magnified="results/magnified/{clip}/{method}/x{alpha}",
        truth=truth_frames,
        weights=flow_weights,
        checkpoint=method_checkpoint,
    output:
        "results/eval/{clip}/{method}/{flow}/x{alpha}.csv",
    log:
        "logs/evaluate_cell/{clip}/{method}/{flow}/x{alpha}.log",
    benchmark:
        "benchmarks/evaluate_cell/{clip}/{method}/{flow}/x{alpha}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        method_settings=lambda wildcards: config["methods"][wildcards.method],
        region_margin=config["evaluation"].get("region_margin", 8),
        device=config["device"],
        weights_manifest=WEIGHTS_MANIFEST,
    script:
        "../scripts/evaluate_cell.py"
