# Learned magnifiers, one run folder per variant, launched by torchrun (one process per GPU;
# `gpus` and `nodes` per variant). The trainer resumes from results/train/<model>/<variant>/state/
# (not a declared output, so the progress of a failed, killed or preempted job survives: on
# SIGTERM it saves the state and exits, and the resubmitted job goes on), and writes model.pt,
# log.csv and loss.png at the end.


rule train_flowmag:
    input:
        config=lambda wildcards: flowmag_training(wildcards)["config"],
        pairs=lambda wildcards: flowmag_training(wildcards)["pairs"],
        weights=training_flow_weights,
        init=lambda wildcards: init_weights_of(flowmag_training(wildcards)),
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
    wildcard_constraints:
        variant=one_of(single_node(FLOWMAG_VARIANTS)),
    conda:
        "../../envs/motionmag.yaml"
    threads: 2
    resources:
        gpu=lambda wildcards: training_gpus(flowmag_training(wildcards)),
        mem_mb=mem_mb(8000),
        runtime=60,
    params:
        launcher=lambda wildcards: torchrun(flowmag_training(wildcards)),
        out_dir=lambda wildcards: f"results/train/flowmag/{wildcards.variant}",
        steps=lambda wildcards: steps_flag(flowmag_training(wildcards)),
        device=config["device"],
        weights_manifest=WEIGHTS_MANIFEST,
        weights_dir=WEIGHTS_DIR,
    shell:
        "MOTIONMAG_WEIGHTS_MANIFEST={params.weights_manifest:q} MOTIONMAG_WEIGHTS_DIR={params.weights_dir:q} "
        "OMP_NUM_THREADS={threads} {params.launcher} -m motionmag train flowmag {input.config:q} "
        "--pairs {input.pairs:q} -o {params.out_dir:q} --device {params.device} {params.steps} > {log:q} 2>&1"


rule train_oh2018:
    input:
        config=lambda wildcards: oh2018_training(wildcards)["config"],
        data=lambda wildcards: oh2018_training(wildcards)["data"],
        init=lambda wildcards: init_weights_of(oh2018_training(wildcards)),
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
    wildcard_constraints:
        variant=one_of(single_node(OH_VARIANTS)),
    conda:
        "../../envs/motionmag.yaml"
    threads: 2
    resources:
        gpu=lambda wildcards: training_gpus(oh2018_training(wildcards)),
        mem_mb=mem_mb(8000),
        runtime=60,
    params:
        launcher=lambda wildcards: torchrun(oh2018_training(wildcards)),
        out_dir=lambda wildcards: f"results/train/oh2018/{wildcards.variant}",
        steps=lambda wildcards: steps_flag(oh2018_training(wildcards)),
        device=config["device"],
    shell:
        "OMP_NUM_THREADS={threads} {params.launcher} -m motionmag train oh2018 {input.config:q} "
        "--data {input.data:q} -o {params.out_dir:q} --device {params.device} {params.steps} > {log:q} 2>&1"


# A variant with nodes > 1 (either model): one SLURM job over the nodes, srun starting one
# torchrun per node (the executor plugin's `mpi` form: no srun wrapper of its own); GPUs go
# through slurm_extra, because `gpu` together with `tasks` makes the plugin ask for GPUs per task.
rule train_multinode:
    input:
        unpack(multinode_inputs),
    output:
        model="results/train/{run}/model.pt",
        log_csv="results/train/{run}/log.csv",
        plot=report(
            "results/train/{run}/loss.png",
            caption="../report/training.rst",
            category="6. Training",
            labels={"model": "{run}", "variant": "multi-node"},
        ),
    log:
        "logs/train_multinode/{run}.log",
    benchmark:
        "benchmarks/train_multinode/{run}.tsv"
    wildcard_constraints:
        run=one_of(list(MULTINODE)),
    conda:
        "../../envs/motionmag.yaml"
    threads: 8
    resources:
        mpi="srun",
        nodes=lambda wildcards: MULTINODE[wildcards.run]["nodes"],
        tasks=lambda wildcards: MULTINODE[wildcards.run]["nodes"],
        slurm_extra=lambda wildcards: f"'--ntasks-per-node=1 --gpus-per-node={training_gpus(MULTINODE[wildcards.run])}'",
        mem_mb=mem_mb(64000),
        runtime=4320,
    params:
        launcher=multinode_rendezvous,
        model=lambda wildcards: wildcards.run.split("/")[0],
        data_flag=lambda wildcards: (
            "--pairs" if wildcards.run.startswith("flowmag/") else "--data"
        ),
        out_dir=lambda wildcards: f"results/train/{wildcards.run}",
        steps=lambda wildcards: steps_flag(MULTINODE[wildcards.run]),
        device=config["device"],
        weights_manifest=WEIGHTS_MANIFEST,
        weights_dir=WEIGHTS_DIR,
    shell:
        "{resources.mpi} -n {resources.tasks} --ntasks-per-node=1 env "
        "MOTIONMAG_WEIGHTS_MANIFEST={params.weights_manifest:q} MOTIONMAG_WEIGHTS_DIR={params.weights_dir:q} "
        "OMP_NUM_THREADS={threads} {params.launcher} -m motionmag train {params.model} {input.config:q} "
        "{params.data_flag} {input.data:q} -o {params.out_dir:q} --device {params.device} {params.steps} > {log:q} 2>&1"
