# Frame-pair sets for FlowMag made from the demo clips (the real datasets' pairs come later).


rule demo_pairs:
    input:
        unpack(pair_clips),
    output:
        "results/pairs/{pairset}.h5",
    log:
        "logs/demo_pairs/{pairset}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        spacings=lambda wildcards: PAIR_SETS[wildcards.pairset].get("spacings", [1]),
    script:
        "../scripts/demo_pairs.py"
