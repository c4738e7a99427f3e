# make demo: set up .venv and run the offline demo, then build the report
# make test: set up .venv (with the flow zoo extra) and run every test (slow ones included)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ZOO := $(VENV)/.zoo

.PHONY: demo test report lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# the optional flow zoo (ptlflow: GMFlow, PWC-Net), so that the tests cover every flow model
$(ZOO): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,zoo]"
	touch $(ZOO)

demo: $(STAMP)
	$(BIN)/snakemake --cores 2
	$(BIN)/snakemake --report results/report.html
	@echo "open results/report.html: it opens on the tables, then plots and videos (tables also in results/tables/*/*.md)"

test: $(ZOO)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest -ra

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

clean:
	rm -rf results logs benchmarks .snakemake
