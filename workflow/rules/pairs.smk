# Frame-pair sets: made from the demo clips, or read from a released zip (FlowMag's test split).


rule demo_pairs:
    input:
        unpack(lambda w: PLAN.demo_pair_clips(w.pairset)),
    output:
        "results/pairs/{pairset}.h5",
    log:
        "logs/demo_pairs/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(PLAN.demo_pair_sets),
    priority: 1  # FlowMag's training waits for it
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        spacings=lambda wildcards: PLAN.pair_sets[wildcards.pairset]["spacings"],
    script:
        "../scripts/demo_pairs.py"


rule released_pairs:
    input:
        lambda w: PLAN.released_archive(w.pairset),
    output:
        "results/pairs/{pairset}.h5",
    log:
        "logs/released_pairs/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(PLAN.released_pair_sets),
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
        unpack(lambda w: PLAN.frame_index_inputs(w.dataset, w.split)),
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
        layout=lambda wildcards: LAYOUTS[(wildcards.dataset, wildcards.split)],
        # the folder the frames lie in (UVO: the one holding clips.tsv and uvo_videos_dense/)
        root=lambda wildcards, input: (
            os.path.dirname(input.root)
            if LAYOUTS[(wildcards.dataset, wildcards.split)].archive == "uvo-videos"
            else input.root
        ),
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
        index=lambda w: PLAN.subset_index(w.pairset, w.subset),
        candidates=lambda w: PLAN.subset_candidates(w.pairset, w.subset),
        weights=lambda w: PLAN.stats_flow_weights(w.pairset),
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
        gpu=lambda w: len(PLAN.stats_flow_weights(w.pairset)),
    params:
        settings=lambda w: PLAN.stats_settings(w.pairset, w.subset),
        device=config["device"],
    script:
        "../scripts/pair_stats.py"


rule pair_shard:
    input:
        unpack(lambda w: PLAN.pair_shard_inputs(w.pairset, w.subset, w.shard)),
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
        settings=lambda w: PLAN.built[w.pairset],
    script:
        "../scripts/pair_shard.py"


rule pair_manifest:
    input:
        pairs=lambda wildcards: PLAN.subset_shards(
            wildcards.pairset, "results/pairs/{pairset}/shards/{subset}/{shard}.h5"
        ),
        kept=lambda wildcards: PLAN.subset_shards(
            wildcards.pairset, "results/pairs/{pairset}/shards/{subset}/{shard}.csv"
        ),
    output:
        manifest="results/pairs/{pairset}/manifest.json",
        table="results/pairs/{pairset}/manifest.csv",
    log:
        "logs/pair_manifest/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(PLAN.built_train_sets),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=8000,
        runtime=4 * 60,
    params:
        settings=lambda w: PLAN.built[w.pairset],
        # each shard's subset, in the order of the inputs
        subsets=lambda w: PLAN.subset_shards(w.pairset, "{subset}"),
    script:
        "../scripts/pair_manifest.py"


rule pair_testset:
    input:
        stats=lambda wildcards: PLAN.subset_shards(
            wildcards.pairset, "results/pairs/{pairset}/stats/{subset}/{shard}.csv"
        ),
        indexes=lambda w: sorted(set(PLAN.test_indexes(w.pairset).values())),
    output:
        pairs="results/pairs/{pairset}.h5",
        table="results/pairs/{pairset}.csv",
    log:
        "logs/pair_testset/{pairset}.log",
    wildcard_constraints:
        pairset=one_of(PLAN.built_test_sets),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=8000,
        runtime=2 * 60,
    params:
        settings=lambda w: PLAN.built[w.pairset],
        # each statistics shard's subset, in the order of the inputs
        subsets=lambda w: PLAN.subset_shards(w.pairset, "{subset}"),
        indexes=lambda w: PLAN.test_indexes(w.pairset),
    script:
        "../scripts/pair_testset.py"
