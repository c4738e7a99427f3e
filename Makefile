# make demo: set up .venv and run the offline demo, then build the report
# make test: set up .venv and run every test (slow ones included)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test report lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/snakemake --cores 2
	$(BIN)/snakemake --report results/report.html
	@echo "open results/report.html (tables, plots, videos); tables also in results/tables/*.md"

test: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest -ra

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

clean:
	rm -rf results logs benchmarks .snakemake
