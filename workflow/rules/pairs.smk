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


# --- FlowMag's pair set from the real datasets (docs/datasets.md#flowmags-data-recipe) ------------


rule frame_index:
    input:
        unpack(frame_index_inputs),
    output:
        "results/datasets/frames/{dataset}_{split}.json",
    log:
        "logs/frame_index/{dataset}_{split}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        layout=layout_of,
    script:
        "../scripts/frame_index.py"


rule pair_candidates:
    input:
        lambda wildcards: f"results/datasets/frames/{SUBSETS[wildcards.subset][0]}_{wildcards.split}.json",
    output:
        "results/datasets/candidates/{subset}_{split}.csv",
    log:
        "logs/pair_candidates/{subset}_{split}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        spacing=lambda wildcards: SUBSETS[wildcards.subset][1],
    script:
        "../scripts/pair_candidates.py"


rule pair_stats:
    input:
        index=subset_index,
        candidates=subset_candidates,
        weights=stats_flow_weights,
    output:
        "results/pairs/{pairset}/stats/{subset}/{shard}.csv",
    log:
        "logs/pair_stats/{pairset}/{subset}/{shard}.log",
    conda:
        "../../envs/motionmag.yaml"
    threads: 4
    resources:
        mem_mb=mem_mb(16000),
        runtime=6 * 60,
        gpu=lambda wildcards: int(build_settings(wildcards)["flow"] in WEIGHT_PATHS),
    params:
        settings=stats_settings,
        device=config["device"],
    script:
        "../scripts/pair_stats.py"


rule pair_shard:
    input:
        unpack(pair_shard_inputs),
    output:
        pairs="results/pairs/{pairset}/shards/{subset}/{shard}.h5",
        kept="results/pairs/{pairset}/shards/{subset}/{shard}.csv",
    log:
        "logs/pair_shard/{pairset}/{subset}/{shard}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=mem_mb(4000),
        runtime=4 * 60,
    params:
        settings=build_settings,
    script:
        "../scripts/pair_shard.py"


rule pair_manifest:
    input:
        pairs=lambda wildcards: subset_shards(
            wildcards.pairset, "results/pairs/{pairset}/shards/{subset}/{shard}.h5"
        ),
        kept=lambda wildcards: subset_shards(
            wildcards.pairset, "results/pairs/{pairset}/shards/{subset}/{shard}.csv"
        ),
    output:
        manifest="results/pairs/{pairset}/manifest.json",
        table="results/pairs/{pairset}/manifest.csv",
    log:
        "logs/pair_manifest/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(BUILT_TRAIN_SETS),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=8000,
        runtime=4 * 60,
    params:
        settings=build_settings,
    script:
        "../scripts/pair_manifest.py"


rule pair_testset:
    input:
        stats=lambda wildcards: subset_shards(
            wildcards.pairset, "results/pairs/{pairset}/stats/{subset}/{shard}.csv"
        ),
        indexes=lambda wildcards: sorted(
            {
                f"results/datasets/frames/{SUBSETS[s][0]}_test.json"
                for s in build_settings(wildcards)["subsets"]
            }
        ),
    output:
        pairs="results/pairs/{pairset}.h5",
        table="results/pairs/{pairset}.csv",
    log:
        "logs/pair_testset/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(BUILT_TEST_SETS),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=8000,
        runtime=2 * 60,
    params:
        settings=build_settings,
    script:
        "../scripts/pair_testset.py"
