# Dataset archives from config/datasets.yaml: downloaded, resumed, sha256-checked (or pinned on
# first download), then renamed into place.


rule download_dataset:
    output:
        f"{DATASETS_DIR}/{{dataset_file}}",
    log:
        "logs/download_dataset/{dataset_file}.log",
    retries: 2
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=1000,
        runtime=240,
    params:
        entry=lambda wildcards: next(
            n for n, f in DATASET_FILES.items() if f == wildcards.dataset_file
        ),
        manifest=DATASETS_MANIFEST,
    script:
        "../scripts/download_dataset.py"
