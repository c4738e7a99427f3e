# The real datasets (config/datasets.yaml): each file downloaded (resumed, sha256-checked or
# pinned in datasets.lock.json on first download) or, where registration is needed, taken from
# the manual folder; archives unpacked all-or-nothing; UVO's videos rebuilt from Kinetics-400.


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
        runtime=24 * 60,
        downloads=1,  # --resources downloads=N caps parallel downloads (Drive throttles)
    params:
        entry=lambda wildcards: next(
            n for n, f in DATASET_FILES.items() if f == wildcards.dataset_file
        ),
        manifest=DATASETS_MANIFEST,
        manual_dir=config["datasets"].get("manual_dir", f"{DATASETS_DIR}/manual"),
    script:
        "../scripts/download_dataset.py"


rule extract_dataset:
    input:
        lambda wildcards: f"{DATASETS_DIR}/{DATASET_FILES[wildcards.archive_entry]}",
    output:
        directory(f"{DATASETS_DIR}/extracted/{{archive_entry}}"),
    log:
        "logs/extract_dataset/{archive_entry}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=6 * 60,
    params:
        entry="{archive_entry}",
        manifest=DATASETS_MANIFEST,
    script:
        "../scripts/extract_dataset.py"


rule uvo_videos:
    input:
        train=f"{DATASETS_DIR}/{DATASET_FILES.get('uvo-train-dense', 'uvo-train-dense')}",
        test=f"{DATASETS_DIR}/{DATASET_FILES.get('uvo-test-dense', 'uvo-test-dense')}",
        parts=f"{DATASETS_DIR}/{DATASET_FILES.get('kinetics400-val-parts', 'kinetics400-val-parts')}",
        times=uvo_times,
    output:
        f"{DATASETS_DIR}/uvo/clips.tsv",
    log:
        "logs/uvo_videos.log",
    conda:
        "../../envs/motionmag.yaml"
    threads: 4
    resources:
        mem_mb=4000,
        runtime=24 * 60,
        downloads=1,
    params:
        manifest=DATASETS_MANIFEST,
        settings=UVO,
    script:
        "../scripts/uvo_videos.py"
