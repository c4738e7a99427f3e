# Oh-style synthetic sets (frames A, B, C, amplified): training sets and the paper's evaluation
# sweeps, generated one shard per job (each shard depends only on recipe, source and seed).


rule synth_index:
    input:
        lambda w: PLAN.synth_source_archives(w.synthset),
    output:
        "results/synthetic/{synthset}/sources.json",
    log:
        "logs/synth_index/{synthset}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        source=lambda wildcards: PLAN.synth_sets[wildcards.synthset]["source"],
    script:
        "../scripts/synth_index.py"


rule synth_shard:
    input:
        index="results/synthetic/{synthset}/sources.json",
        recipe=lambda wildcards: PLAN.synth_sets[wildcards.synthset]["recipe"],
    output:
        "results/synthetic/{synthset}/shard-{shard}.h5",
    log:
        "logs/synth_shard/{synthset}/{shard}.log",
    conda:
        "../../envs/motionmag.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=90,
    params:
        settings=lambda wildcards: PLAN.synth_shard_settings(
            wildcards.synthset, int(wildcards.shard)
        ),
    script:
        "../scripts/synth_shard.py"


rule synth_manifest:
    input:
        shards=lambda wildcards: PLAN.synth_shards(wildcards.synthset),
        index="results/synthetic/{synthset}/sources.json",
    output:
        "results/synthetic/{synthset}/manifest.json",
    log:
        "logs/synth_manifest/{synthset}.log",
    conda:
        "../../envs/motionmag.yaml"
    params:
        settings=lambda wildcards: PLAN.synth_sets[wildcards.synthset],
    script:
        "../scripts/synth_manifest.py"


rule synth_preview:
    input:
        "results/synthetic/{synthset}/manifest.json",
    output:
        report(
            "results/synthetic/{synthset}/preview.png",
            caption="../report/synthetic.rst",
            category="5. Synthetic data",
            labels={"set": "{synthset}"},
        ),
    log:
        "logs/synth_preview/{synthset}.log",
    conda:
        "../../envs/motionmag.yaml"
    params:
        samples=8,  # the contact sheet's tiles
    script:
        "../scripts/synth_preview.py"
