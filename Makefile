# Two commands on a fresh machine with only Python and make:
#   make run   - create .venv, install, run the default plan and write its report (out/plan/report.html)
#   make test  - create .venv, install with test extras, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/chip2chat plan --out out/plan

test: $(VENV)/.installed
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_estimate.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
