# Oh-style synthetic training samples (frames A, B, C, amplified) from the offline demo
# generator (the full COCO + PASCAL VOC generator writes the same layout).


rule demo_synthetic:
    output:
        "results/synthetic/{synthset}.h5",
    log:
        "logs/demo_synthetic/{synthset}.log",
    conda:
        "../../envs/motionmag.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=lambda wildcards: {
            k: v for k, v in SYNTH_SETS[wildcards.synthset].items() if k != "samples"
        },
        samples=lambda wildcards: SYNTH_SETS[wildcards.synthset]["samples"],
    script:
        "../scripts/demo_synthetic.py"
