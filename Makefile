# make demo: set up .venv and run the offline demo, then build the report
# make test: set up .venv (with the flow zoo extra) and run the fast tier (at most 8 min on 2 cores)
# make test-full: everything, the slow tier included (Snakemake runs, trainings, the SLURM cluster); CI runs it
# make release-weights: regenerate the released demo weights (hours on a CPU)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ZOO := $(VENV)/.zoo

.PHONY: demo test test-full report lint clean release-weights cluster-profile

# uv installs in parallel and compiles the bytecode on every core: half of pip's time (BENCHMARKS.md)
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

# what the demo needs
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(UV) -e .
	touch $(STAMP)

# the tests' extras and the optional flow zoo (ptlflow: GMFlow, PWC-Net), so that the tests cover
# every flow model
$(ZOO): $(STAMP)
	$(UV) -e ".[test,zoo]"
	touch $(ZOO)

demo: $(STAMP)
	$(BIN)/snakemake --cores 2
	$(BIN)/snakemake --report results/report.html
	@echo "open results/report.html: it opens on the tables, then plots and videos (tables also in results/tables/*/*.md)"

PYTEST := PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest -ra --strict-markers --durations=20
test: $(ZOO)
	$(PYTEST) -m "not slow"

test-full: $(ZOO)
	$(PYTEST)

# The released demo weights (resources/release/, listed in config/weights.yaml): FlowMag and Oh et
# al. 2018; `make -j2 release-weights` trains both side by side (about 2 h on 2 cores). Each
# training resumes exactly if stopped.
# Then copy RELEASE/*/model.pt over resources/release/ and put their sha256 in the manifest.
RELEASE := results/release
MM := OMP_NUM_THREADS=1 $(BIN)/motionmag
release-weights: $(RELEASE)/oh2018/model.pt $(RELEASE)/flowmag/model.pt
	sha256sum $^

$(RELEASE)/oh2018/model.pt: $(STAMP) config/oh2018/release.yaml
	$(MM) synth generate config/synthetic/demo.yaml --source demo-heldout --samples 6000 --seed 10 -o $(RELEASE)/synthetic/oh_release.h5 -q
	$(MM) train oh2018 config/oh2018/release.yaml --data $(RELEASE)/synthetic/oh_release.h5 -o $(RELEASE)/oh2018 --device cpu -q

$(RELEASE)/flowmag/model.pt: $(STAMP) config/flowmag/release.yaml
	$(MM) synth pairs --count 2000 --clip resources/clips/baby.mp4 --seed 1 -o $(RELEASE)/flowmag_pairs.h5
	$(MM) train flowmag config/flowmag/release.yaml --pairs $(RELEASE)/flowmag_pairs.h5 -o $(RELEASE)/flowmag --device cpu -q

# `snakemake --profile slurm` from the repo root: Snakemake finds a bare profile name in the
# current folder or in ~/.config/snakemake (or $$XDG_CONFIG_HOME/snakemake)
PROFILES := $${XDG_CONFIG_HOME:-$$HOME/.config}/snakemake
cluster-profile: $(STAMP)
	$(UV) -e ".[cluster]"
	mkdir -p $(PROFILES)
	@if [ -d $(PROFILES)/slurm ] && [ ! -L $(PROFILES)/slurm ]; then echo "$(PROFILES)/slurm is a folder of its own: move it away first"; exit 1; fi
	ln -sfn $(CURDIR)/profiles/slurm $(PROFILES)/slurm
	@echo "profile linked: now edit the partition in profiles/slurm/config.yaml, then: snakemake --profile slurm"

lint: $(ZOO)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

clean:
	rm -rf results logs benchmarks .snakemake
