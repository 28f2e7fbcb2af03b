# The quick start: `make run` (service on the embedded default) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/escalator mappings check $(or $(MAPPINGS_DIR),mappings)
	$(BIN)/escalator db upgrade
	$(BIN)/escalator serve

test: $(STAMP)
	scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/escalator mappings check $(or $(MAPPINGS_DIR),mappings)

bench: $(STAMP)
	$(BIN)/python bench/clock.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
