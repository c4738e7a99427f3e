# Frame-pair sets: made from the demo clips, or read from a released zip (FlowMag's test split).


rule demo_pairs:
    input:
        unpack(pair_clips),
    output:
        "results/pairs/{pairset}.h5",
    log:
        "logs/demo_pairs/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(DEMO_PAIR_SETS),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        spacings=lambda wildcards: PAIR_SETS[wildcards.pairset].get("spacings", [1]),
    script:
        "../scripts/demo_pairs.py"


rule released_pairs:
    input:
        released_archive,
    output:
        "results/pairs/{pairset}.h5",
    log:
        "logs/released_pairs/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(RELEASED_PAIR_SETS),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/released_pairs.py"
