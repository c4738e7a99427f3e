# Oh-style synthetic sets (frames A, B, C, amplified): training sets and the paper's evaluation
# sweeps, generated one shard per job (each shard depends only on recipe, source and seed). Made
# first (priority), as the trainings wait for them.


rule synth_index:
    input:
        lambda w: PLAN.synth_source_archives(w.synthset),
    output:
        "results/synthetic/{synthset}/sources.json",
    log:
        "logs/synth_index/{synthset}.log",
    priority: 1
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
    priority: 1
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
    priority: 1
    conda:
        "../../envs/motionmag.yaml"
    params:
        settings=lambda wildcards: PLAN.synth_sets[wildcards.synthset],
    script:
        "../scripts/synth_manifest.py"


# Axial-MM's published evaluation set (a zip of the datasets manifest), one sweep per set
rule import_axial_eval:
    input:
        lambda w: PLAN.dataset_path(PLAN.imported_sets[w.imported]["import"]),
    output:
        shard="results/synthetic/{imported}/shard-0.h5",
        manifest="results/synthetic/{imported}/manifest.json",
    log:
        "logs/import_axial_eval/{imported}.log",
    wildcard_constraints:
        imported=one_of(list(PLAN.imported_sets)),
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=4000,
        runtime=4 * 60,
    params:
        sweep=lambda w: PLAN.imported_sets[w.imported]["sweep"],
        samples_per_mode=lambda w: PLAN.imported_sets[w.imported].get(
            "samples_per_mode"
        ),
    script:
        "../scripts/import_axial_eval.py"


rule synth_preview:
    input:
        "results/synthetic/{anyset}/manifest.json",
    output:
        report(
            "results/synthetic/{anyset}/preview.png",
            caption="../report/synthetic.rst",
            category="5. Synthetic data",
            labels={"set": "{anyset}"},
        ),
    log:
        "logs/synth_preview/{anyset}.log",
    wildcard_constraints:
        anyset=one_of([*PLAN.synth_sets, *PLAN.imported_sets]),
    conda:
        "../../envs/motionmag.yaml"
    params:
        samples=8,  # the contact sheet's tiles
    script:
        "../scripts/synth_preview.py"
