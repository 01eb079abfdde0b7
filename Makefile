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
# The docs site (antsibull-docs + Sphinx) of the installed copy; an ignored folder.
DOCS_DIR ?= $(CURDIR)/docs/_build
# ansible-builder's build context for the execution environment (building the image needs a container engine).
EE_CONTEXT ?= $(CURDIR)/.cache/ee-context
# The oldest supported ansible-core in a virtualenv of its own, rebuilt only when its requirements change.
OLDEST_REQUIREMENTS := tests/compat/requirements-core-oldest.txt requirements.txt
OLDEST_VENV := .cache/venv-core-oldest
OLDEST_KEY := $(shell cat $(OLDEST_REQUIREMENTS) | sha256sum | cut -c1-12)
OLDEST_STAMP := $(OLDEST_VENV)/.installed-$(OLDEST_KEY)
PYTEST_WORKERS ?= 2

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.cache/ansible-tmp
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible-home
export PYTHONDONTWRITEBYTECODE := 1
# Tools installed into the virtualenv (shellcheck for sanity) are found first.
export PATH := $(BIN):$(PATH)

.PHONY: help venv build demo test bench sanity lint changelog-lint pytest units integration clean
.PHONY: docs docs-lint venv-oldest ee-context

help:
	@echo "make demo  - run the release playbook against the local emulator"
	@echo "make test  - the whole test suite (sanity, lint, changelog, unit, emulator, SDK conformance, integration)"
	@echo "make bench - timings against the naive loop and the floor (LATENCY_MS=30); rewrites docs/performance.md"
	@echo "make docs  - the docs site (every module, the role, the playbooks) into $(DOCS_DIR)/build/html"

$(VENV_STAMP): $(REQUIREMENTS)
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r tests/requirements.txt
	touch $@

venv: $(VENV_STAMP)

$(OLDEST_STAMP): $(OLDEST_REQUIREMENTS)
	rm -f $(OLDEST_VENV)/.installed-*
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -r tests/compat/requirements-core-oldest.txt
	touch $@

venv-oldest: $(OLDEST_STAMP)

# Build the collection and install the tarball; every test runs against this installed copy.
build: venv
	rm -rf $(BUILD_DIR) $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD_DIR) . >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) $(TARBALL) >/dev/null
	@echo "installed hwc.apig $(VERSION) into $(COLLECTIONS)"

demo: build
	$(BIN)/python tests/demo/run_demo.py

test: build sanity lint changelog-lint docs-lint pytest
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

# Plugin and role docs render (schema, markup, references, rstcheck) and the extra docs pages are valid.
# It lints the files git would clone (a copy), so it runs on the tree, not on the installed copy.
docs-lint: build
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .

# The site is built offline: no inventories fetched from other sites, references into them not warnings.
docs: build
	rm -rf $(DOCS_DIR)
	mkdir -p $(DOCS_DIR)
	$(BIN)/antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir $(DOCS_DIR) --project hwc.apig \
	  --copyright "hwc.apig contributors" --title "hwc.apig collection" --html-short-title hwc.apig hwc.apig >/dev/null
	printf '%s\n' "intersphinx_mapping = {}" "suppress_warnings = ['ref.ref']" >> $(DOCS_DIR)/conf.py
	$(DOCS_DIR)/build.sh > $(DOCS_DIR)/build.log 2>&1 || { tail -40 $(DOCS_DIR)/build.log; exit 1; }
	@echo "docs site: $(DOCS_DIR)/build/html/index.html"

# The definition with the tarball this build made beside it, wherever BUILD_DIR is.
ee-context: build
	rm -rf $(EE_CONTEXT)
	mkdir -p $(EE_CONTEXT)/definition/build
	cp execution-environment.yml $(EE_CONTEXT)/definition/
	cp $(TARBALL) $(EE_CONTEXT)/definition/build/
	$(BIN)/ansible-builder create --file $(EE_CONTEXT)/definition/execution-environment.yml \
	  --context $(EE_CONTEXT)/context >/dev/null
	@echo "execution environment build context: $(EE_CONTEXT)/context (build it with podman or docker)"

# Unit, emulator, SDK conformance and integration tiers in one xdist run.
pytest: build venv-oldest
	HOME=$(CURDIR)/.cache/home HWC_APIG_OLDEST_CORE_BIN=$(CURDIR)/$(OLDEST_VENV)/bin $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/unit tests/emulator/tests tests/conformance tests/integration

units: build
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/unit

integration: build
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider tests/integration

# Wall-clock figures live here, not in tests: rewrites docs/performance.md and its chart. matplotlib
# (the chart only) goes into a virtualenv of its own, rebuilt only when its requirements file changes.
BENCH_VENV := $(CURDIR)/.cache/bench-venv
BENCH_REQUIREMENTS := tests/benchmark/requirements.txt
BENCH_STAMP := $(BENCH_VENV)/.installed-$(shell sha256sum $(BENCH_REQUIREMENTS) | cut -c1-12)
LATENCY_MS ?= 30
BENCH_ARGS ?=

$(BENCH_STAMP): $(BENCH_REQUIREMENTS)
	rm -f $(BENCH_VENV)/.installed-*
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r $(BENCH_REQUIREMENTS)
	touch $@

bench: build $(BENCH_STAMP)
	$(BIN)/python tests/benchmark/bench.py --latency-ms $(LATENCY_MS) --chart-python $(BENCH_VENV)/bin/python $(BENCH_ARGS)
	$(BIN)/python tests/benchmark/bench_rollback.py --latency-ms $(LATENCY_MS)

clean:
	rm -rf build $(COLLECTIONS) $(SANITY_ROOT) .cache
