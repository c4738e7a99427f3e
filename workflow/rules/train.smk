# Learned magnifiers, one run folder per variant. The trainer resumes from
# results/train/<model>/<variant>/state/ (not a declared output, so a failed or killed job's
# progress survives), and writes model.pt, log.csv and loss.png at the end.


rule train_flowmag:
    input:
        config=lambda wildcards: flowmag_training(wildcards)["config"],
        pairs=lambda wildcards: flowmag_training(wildcards)["pairs"],
        weights=training_flow_weights,
    output:
        model="results/train/flowmag/{variant}/model.pt",
        log_csv="results/train/flowmag/{variant}/log.csv",
        plot=report(
            "results/train/flowmag/{variant}/loss.png",
            caption="../report/training.rst",
            category="6. Training",
            labels={"model": "flowmag", "variant": "{variant}"},
        ),
    log:
        "logs/train_flowmag/{variant}.log",
    benchmark:
        "benchmarks/train_flowmag/{variant}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        out_dir=lambda wildcards: f"results/train/flowmag/{wildcards.variant}",
        steps=lambda wildcards: flowmag_training(wildcards).get("steps"),
        device=config["device"],
        weights_manifest=WEIGHTS_MANIFEST,
    script:
        "../scripts/train_flowmag.py"


rule train_oh2018:
    input:
        config=lambda wildcards: oh2018_training(wildcards)["config"],
        data=lambda wildcards: oh2018_training(wildcards)["data"],
    output:
        model="results/train/oh2018/{variant}/model.pt",
        log_csv="results/train/oh2018/{variant}/log.csv",
        plot=report(
            "results/train/oh2018/{variant}/loss.png",
            caption="../report/training.rst",
            category="6. Training",
            labels={"model": "oh2018", "variant": "{variant}"},
        ),
    log:
        "logs/train_oh2018/{variant}.log",
    benchmark:
        "benchmarks/train_oh2018/{variant}.tsv"
    conda:
        "../../envs/motionmag.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        out_dir=lambda wildcards: f"results/train/oh2018/{wildcards.variant}",
        steps=lambda wildcards: oh2018_training(wildcards).get("steps"),
        device=config["device"],
    script:
        "../scripts/train_oh2018.py"
