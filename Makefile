# The few commands a person types. Needs only python3 with pip: uv is installed when missing.
# uv on PATH, else where `pip install --user` puts it, else through the python3 that has it.
UV := $(shell command -v uv 2>/dev/null || ls "$$HOME/.local/bin/uv" 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
UV_VERSION := 0.13.8
PORT ?= 8000
DATA_DIR ?= .data

.PHONY: run test lint format bench sync uv

uv:
	@$(UV) --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet --user "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --user --break-system-packages "uv==$(UV_VERSION)"

sync: uv
	$(UV) sync --frozen

## run: the whole suite on this machine (embedded NATS, SQLite under .data/), Ctrl-C stops it
run: sync
	$(UV) run --frozen pangolin up --data-dir $(DATA_DIR) --port $(PORT) $(ARGS)

## test: every test (real nats-server, SQLite, and PostgreSQL when one answers)
test: sync
	$(UV) run --frozen pytest $(ARGS)

## lint: ruff (lint and format check) and mypy
lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .

format: sync
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

## bench: benchmarks (never part of the tests); prints figures
bench: sync
	$(UV) run --frozen python bench/backbone.py $(ARGS)
