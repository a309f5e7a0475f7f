# Two commands do all the set-up on a fresh machine (see README.md):
#   make plan   install dockyard into .venv and plan the bundled example, offline
#   make test   install the test tools and run ruff, mypy --strict and pytest
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
PIP_FLAGS := --quiet --disable-pip-version-check
# checkov pins its own boto3 and friends, so it lives in a venv of its own.
CHECKOV_SPEC := checkov>=3.3.30,<3.4

.PHONY: plan test lint bench clean groovy lock

$(VENV)/.runtime: pyproject.toml
	@echo "make: installing dockyard into $(VENV) (once, and again when pyproject.toml changes)"
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dockyard needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -e .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime
	@echo "make: installing the test tools into $(VENV) (once)"
	$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[test]'
	@touch $@

$(TOOLS)/.installed:
	@echo "make: installing checkov into $(TOOLS) (once; it pins its own boto3)"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install $(PIP_FLAGS) '$(CHECKOV_SPEC)'
	@touch $@

# The pipeline tests parse and run Groovy as Jenkins does: Debian's groovy (2.4, Jenkins' line).
groovy:
	@command -v groovyc >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's groovy for the pipeline tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q groovy >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q groovy >/dev/null; }; \
	  else \
	    echo "the pipeline tests need groovy: sudo apt-get install groovy (or your system's package)" >&2; exit 1; \
	  fi; }

plan: $(VENV)/.runtime
	$(VENV)/bin/dockyard plan

lint: $(VENV)/.test
	@echo "make: ruff and mypy --strict"
	$(VENV)/bin/ruff check src tests bench devtools
	$(VENV)/bin/mypy

# The end-to-end tests mostly wait on the emulated account: eight workers (each with its own
# emulator) keep two cores busy; an idle worker takes tests queued for a busy one (worksteal).
test: lint $(TOOLS)/.installed groovy
	DOCKYARD_CHECKOV=$(abspath $(TOOLS))/bin/checkov $(VENV)/bin/pytest -n 8 --dist worksteal

bench: $(VENV)/.runtime
	$(VENV)/bin/python bench/startup.py

clean:
	rm -rf $(VENV) $(TOOLS) dockyard-plan .pytest_cache .mypy_cache .ruff_cache

# Refresh the agent image's hashed lock from pyproject.toml's ranges and print what moved.
lock: $(VENV)/.runtime
	$(VENV)/bin/pip install $(PIP_FLAGS) 'uv>=0.5,<1'
	$(VENV)/bin/python -m devtools.lock
