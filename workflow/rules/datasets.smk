# The real datasets (config/datasets.yaml): each file downloaded (resumed, sha256-checked or
# pinned in datasets.lock.json on first download) or, where registration is needed, taken from
# the manual folder; archives unpacked all-or-nothing; UVO's videos rebuilt from Kinetics-400.


rule download_dataset:
    output:
        f"{PLAN.datasets_dir}/{{dataset_file}}",
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
            n for n, f in PLAN.dataset_files.items() if f == wildcards.dataset_file
        ),
        manifest=PLAN.datasets_manifest,
        datasets_dir=lambda wildcards, output: os.path.dirname(output[0]),
        manual_dir=config["datasets"].get("manual_dir", f"{PLAN.datasets_dir}/manual"),
    script:
        "../scripts/download_dataset.py"


rule extract_dataset:
    input:
        lambda wildcards: f"{PLAN.datasets_dir}/{PLAN.dataset_files[wildcards.archive_entry]}",
    output:
        directory(f"{PLAN.datasets_dir}/extracted/{{archive_entry}}"),
    log:
        "logs/extract_dataset/{archive_entry}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=6 * 60,
    params:
        entry="{archive_entry}",
        manifest=PLAN.datasets_manifest,
        datasets_dir=lambda wildcards, input: os.path.dirname(input[0]),
    script:
        "../scripts/extract_dataset.py"


rule uvo_videos:
    input:
        train=f"{PLAN.datasets_dir}/{PLAN.dataset_files.get('uvo-train-dense', 'uvo-train-dense')}",
        test=f"{PLAN.datasets_dir}/{PLAN.dataset_files.get('uvo-test-dense', 'uvo-test-dense')}",
        parts=f"{PLAN.datasets_dir}/{PLAN.dataset_files.get('kinetics400-val-parts', 'kinetics400-val-parts')}",
        times=PLAN.uvo_times(),
    output:
        f"{PLAN.datasets_dir}/uvo/clips.tsv",
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
        manifest=PLAN.datasets_manifest,
        # DIR/uvo/clips.tsv: the store's folder, and where frame_index reads the rebuilt videos
        datasets_dir=lambda wildcards, output: os.path.dirname(
            os.path.dirname(output[0])
        ),
        videos_dir=lambda wildcards, output: os.path.join(
            os.path.dirname(output[0]), "uvo_videos_dense"
        ),
        settings=config["uvo"],
    script:
        "../scripts/uvo_videos.py"
