# StreetTwin: `make demo` and `make test` are the two commands (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DEMO_DIR ?= var/demo-district
SEED ?= 7
HOST ?= 127.0.0.1
PORT ?= 8050
DEVICE_PORT ?= 5020

.PHONY: install install-test demo test lint format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

$(DEMO_DIR)/district.gpkg: $(STAMP)
	$(BIN)/streettwin district build --seed $(SEED) --out $(DEMO_DIR)

demo: $(DEMO_DIR)/district.gpkg
	$(BIN)/streettwin demo --district $(DEMO_DIR) --host $(HOST) --port $(PORT) --device-port $(DEVICE_PORT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var build *.egg-info
