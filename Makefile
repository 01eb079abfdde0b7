# hwc.apig — the two commands: `make demo` and `make test`. Both do all set-up and are safe to re-run.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
REQUIREMENTS := requirements.txt tests/requirements.txt
# The virtualenv is rebuilt only when a requirements file changes.
VENV_KEY := $(shell cat $(REQUIREMENTS) | sha256sum | cut -c1-12)
VENV_STAMP := $(VENV)/.installed-$(VENV_KEY)

VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
BUILD_DIR ?= build
TARBALL := $(BUILD_DIR)/hwc-apig-$(VERSION).tar.gz
# Overridable so that several checkouts or parallel runs do not share one installed copy.
COLLECTIONS ?= $(CURDIR)/.collections
INSTALLED := $(COLLECTIONS)/ansible_collections/hwc/apig
SANITY_ROOT ?= $(CURDIR)/.sanity
PYTEST_WORKERS ?= 2

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.cache/ansible-tmp
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible-home
export PYTHONDONTWRITEBYTECODE := 1
# Tools installed into the virtualenv (shellcheck for sanity) are found first.
export PATH := $(BIN):$(PATH)

.PHONY: help venv build demo test bench sanity lint changelog-lint pytest units integration clean

help:
	@echo "make demo  - run the release playbook against the local emulator"
	@echo "make test  - the whole test suite (sanity, lint, changelog, unit, emulator, SDK conformance, integration)"

$(VENV_STAMP): $(REQUIREMENTS)
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt
	touch $@

venv: $(VENV_STAMP)

# Build the collection and install the tarball; every test runs against this installed copy.
build: venv
	rm -rf $(BUILD_DIR) $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD_DIR) . >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) $(TARBALL) >/dev/null
	@echo "installed hwc.apig $(VERSION) into $(COLLECTIONS)"

demo: build
	$(BIN)/python tests/demo/run_demo.py

test: build sanity lint changelog-lint pytest
	@echo "all test tiers passed"

sanity: venv
	mkdir -p $(HOME)/.ansible/test/cache
	cp tests/utils/get_pip_offline.py $(HOME)/.ansible/test/cache/get_pip_24_2.py
	tree=$$(tests/utils/collection_tree.sh $(SANITY_ROOT)); \
	  cd "$$tree" && $(BIN)/ansible-test sanity --venv --python 3.11 --color no

lint: build
	$(BIN)/ansible-lint --profile production --offline -q

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# Unit, emulator, SDK conformance and integration tiers in one xdist run.
pytest: build
	HOME=$(CURDIR)/.cache/home $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/unit tests/emulator/tests tests/conformance tests/integration

units: build
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/unit

integration: build
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/integration

# Wall-clock figures live here, not in tests; writes docs/benchmarks.md.
bench: build
	$(BIN)/python tests/benchmark/bench_publish.py

clean:
	rm -rf build $(COLLECTIONS) $(SANITY_ROOT) .cache
