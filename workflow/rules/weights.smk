# Pretrained flow weights: downloaded, sha256-checked and renamed into place (resumable).


rule download_weights:
    output:
        f"{WEIGHTS_DIR}/{{weights_file}}",
    log:
        "logs/download_weights/{weights_file}.log",
    retries: 2
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        model=weights_model,
        manifest=WEIGHTS_MANIFEST,
    script:
        "../scripts/download_weights.py"


rule weights:
    input:
        [f"{WEIGHTS_DIR}/{file}" for file in WEIGHT_FILES.values()],
