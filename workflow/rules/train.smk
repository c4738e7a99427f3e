# Learned magnifiers, one run folder per variant, launched by torchrun (one process per GPU; python
# alone on one; `gpus` and `nodes` per variant). The trainer resumes from
# results/train/<model>/<variant>/state/ (not a declared output, so the progress of a failed,
# killed or preempted job survives: on SIGTERM it saves the state and exits, and the resubmitted
# job goes on), and writes model.pt, log.csv and loss.png at the end.


rule train_flowmag:
    input:
        config=lambda wildcards: PLAN.variants["flowmag"][wildcards.variant]["config"],
        pairs=lambda wildcards: PLAN.variants["flowmag"][wildcards.variant]["pairs"],
        weights=lambda wildcards: PLAN.flow_weights_of(
            PLAN.variants["flowmag"][wildcards.variant]
        ),
        init=lambda wildcards: PLAN.init_weights_of(
            PLAN.variants["flowmag"][wildcards.variant]
        ),
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
        variant=one_of(PLAN.single_node("flowmag")),
    priority: 1  # early: the methods trained here wait for it
    conda:
        "../../envs/motionmag.yaml"
    threads: lambda wildcards: PLAN.variants["flowmag"][wildcards.variant]["threads"]
    resources:
        gpu=lambda wildcards: PLAN.variants["flowmag"][wildcards.variant]["gpus"],
        mem_mb=mem_mb(8000),
        runtime=60,
    params:
        launcher=lambda wildcards: PLAN.launcher(
            PLAN.variants["flowmag"][wildcards.variant]
        ),
        out_dir=lambda wildcards: f"results/train/flowmag/{wildcards.variant}",
        steps=lambda wildcards: PLAN.steps_flag(
            PLAN.variants["flowmag"][wildcards.variant]
        ),
        device=config["device"],
        weights_manifest=PLAN.weights_manifest,
        weights_dir=PLAN.weights_dir,
    shell:
        "MOTIONMAG_WEIGHTS_MANIFEST={params.weights_manifest:q} MOTIONMAG_WEIGHTS_DIR={params.weights_dir:q} "
        "OMP_NUM_THREADS={threads} {params.launcher} -m motionmag train flowmag {input.config:q} "
        "--pairs {input.pairs:q} -o {params.out_dir:q} --device {params.device} {params.steps} > {log:q} 2>&1"


# Networks trained on a synthetic set (Oh et al. 2018, Axial-MM, EulerMormer, STB-VMM): one rule,
# the model a wildcard.
rule train_synthetic:
    input:
        config=lambda w: PLAN.variants[w.model][w.variant]["config"],
        data=lambda w: PLAN.variants[w.model][w.variant]["data"],
        init=lambda w: PLAN.init_weights_of(PLAN.variants[w.model][w.variant]),
    output:
        model="results/train/{model}/{variant}/model.pt",
        log_csv="results/train/{model}/{variant}/log.csv",
        plot=report(
            "results/train/{model}/{variant}/loss.png",
            caption="../report/training.rst",
            category="6. Training",
            labels={"model": "{model}", "variant": "{variant}"},
        ),
    log:
        "logs/train_synthetic/{model}/{variant}.log",
    benchmark:
        "benchmarks/train_synthetic/{model}/{variant}.tsv"
    wildcard_constraints:
        model=one_of(PLAN.synthetic_models),
        variant=one_of(
            sorted({v for m in PLAN.synthetic_models for v in PLAN.single_node(m)})
        ),
    priority: 1  # early: the methods trained here wait for it
    conda:
        "../../envs/motionmag.yaml"
    threads: lambda w: PLAN.variants[w.model][w.variant]["threads"]
    resources:
        gpu=lambda w: PLAN.variants[w.model][w.variant]["gpus"],
        mem_mb=mem_mb(8000),
        runtime=60,
    params:
        launcher=lambda w: PLAN.launcher(PLAN.variants[w.model][w.variant]),
        out_dir=lambda w: f"results/train/{w.model}/{w.variant}",
        steps=lambda w: PLAN.steps_flag(PLAN.variants[w.model][w.variant]),
        device=config["device"],
    shell:
        "OMP_NUM_THREADS={threads} {params.launcher} -m motionmag train {wildcards.model} {input.config:q} "
        "--data {input.data:q} -o {params.out_dir:q} --device {params.device} {params.steps} > {log:q} 2>&1"


# A variant with nodes > 1 (either model): one SLURM job over the nodes, srun starting one
# torchrun per node (the executor plugin's `mpi` form: no srun wrapper of its own); GPUs go
# through slurm_extra, because `gpu` together with `tasks` makes the plugin ask for GPUs per task.
rule train_multinode:
    input:
        unpack(lambda w: PLAN.multinode_inputs(w.run)),
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
        run=one_of(list(PLAN.multinode)),
    conda:
        "../../envs/motionmag.yaml"
    threads: 8
    resources:
        mpi="srun",
        nodes=lambda wildcards: PLAN.multinode[wildcards.run]["nodes"],
        tasks=lambda wildcards: PLAN.multinode[wildcards.run]["nodes"],
        slurm_extra=lambda wildcards: f"'--ntasks-per-node=1 --gpus-per-node={PLAN.multinode[wildcards.run]['gpus']}'",
        mem_mb=mem_mb(64000),
        runtime=4320,
    params:
        launcher=lambda wildcards: PLAN.multinode_launcher(wildcards.run),
        model=lambda wildcards: wildcards.run.split("/")[0],
        data_flag=lambda wildcards: (
            "--pairs" if wildcards.run.startswith("flowmag/") else "--data"
        ),
        out_dir=lambda wildcards: f"results/train/{wildcards.run}",
        steps=lambda wildcards: PLAN.steps_flag(PLAN.multinode[wildcards.run]),
        device=config["device"],
        weights_manifest=PLAN.weights_manifest,
        weights_dir=PLAN.weights_dir,
    shell:
        "{resources.mpi} -n {resources.tasks} --ntasks-per-node=1 env "
        "MOTIONMAG_WEIGHTS_MANIFEST={params.weights_manifest:q} MOTIONMAG_WEIGHTS_DIR={params.weights_dir:q} "
        "OMP_NUM_THREADS={threads} {params.launcher} -m motionmag train {params.model} {input.config:q} "
        "{params.data_flag} {input.data:q} -o {params.out_dir:q} --device {params.device} {params.steps} > {log:q} 2>&1"
