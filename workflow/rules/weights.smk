# Pretrained flow weights: downloaded, sha256-checked and renamed into place (resumable).


rule download_weights:
    output:
        f"{PLAN.weights_dir}/{{weights_file}}",
    log:
        "logs/download_weights/{weights_file}.log",
    retries: 2
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        model=lambda w: PLAN.weights_model(w.weights_file),
        manifest=PLAN.weights_manifest,
        weights_dir=lambda wildcards, output: os.path.dirname(output[0]),
    script:
        "../scripts/download_weights.py"


rule weights:
    input:
        [f"{PLAN.weights_dir}/{file}" for file in PLAN.weight_files.values()],
