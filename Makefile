# The README's two commands, `make demo` and `make test`, do all set-up
# themselves: a virtual environment outside the clone (created once, reused
# while tests/requirements.txt is unchanged), the abi3 wheel built by maturin,
# and that wheel installed into the environment.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := demo

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= $(HOME)/.cache/ptm_fast/venv
BIN := $(VENV)/bin
WHEEL_DIR := target/wheels
REQUIREMENTS := tests/requirements.txt
STAMP := $(VENV)/.ptm_fast-requirements-$(shell sha256sum $(REQUIREMENTS) | cut -c1-16)
PY_SOURCES := python tests benches
PYTEST_ARGS ?=
REPORT_DIR ?= target/report

.PHONY: env wheel install demo test test-rust lint test-python bench

env:
	@if [ -f "$(STAMP)" ]; then \
	  echo "env: reusing $(VENV) (requirements unchanged)"; \
	else \
	  echo "env: setting up $(VENV) with $(PYTHON)"; \
	  [ -x "$(BIN)/python" ] || "$(PYTHON)" -m venv "$(VENV)"; \
	  "$(BIN)/python" -m pip install -q --upgrade pip; \
	  "$(BIN)/python" -m pip install -q -r $(REQUIREMENTS); \
	  rm -f "$(VENV)"/.ptm_fast-requirements-*; \
	  touch "$(STAMP)"; \
	fi

wheel: env
	@rm -rf $(WHEEL_DIR)
	@echo "wheel: maturin build --release"
	@"$(BIN)/maturin" build --release --quiet --interpreter "$(BIN)/python" --out $(WHEEL_DIR)
	@ls $(WHEEL_DIR)/*.whl

install: wheel
	@"$(BIN)/python" -m pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/*.whl

demo: install
	@"$(BIN)/ptm" demo --report $(REPORT_DIR)

test: install test-rust lint test-python

test-rust:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --features python -- -D warnings
	cargo test

lint: env
	"$(BIN)/ruff" check $(PY_SOURCES)
	"$(BIN)/ruff" format --check $(PY_SOURCES)

# pytest exits 5 when it collected no tests: that is a failure too.
test-python: install
	@rc=0; PTM_FAST_WHEEL="$$(ls $(WHEEL_DIR)/*.whl)" "$(BIN)/python" -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; fi; \
	exit $$rc

bench: install
	@for script in benches/bench_*.py; do \
	  [ -e "$$script" ] || { echo "no benchmark scripts yet"; break; }; \
	  "$(BIN)/python" "$$script"; \
	done
