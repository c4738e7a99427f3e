"""The workflow stages as functions the Snakemake rules call: the plan (config, defaults, checks, launchers)."""
