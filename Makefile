# Two commands: `make lab` opens the workbook, `make test` runs every test.
# Both create .venv and install requirements.txt first, when needed.
# The interpreter .venv is made with: the first Python 3.10+ found, or the one you name
# (make test PYTHON=python3.12). scripts/find-python says in one line when it is too old.
PYTHON ?=
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# JupyterLab refuses to run as root (containers, Codespaces) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test lint test-python test-fast test-notebooks diffs release clean

$(INSTALLED): requirements.txt pyproject.toml
	@base=$$(sh scripts/find-python $(PYTHON)) || exit 1; \
	  echo "Setting up $(VENV) with $$($$base --version) ($$base): $$(sh scripts/install-requirements $$base $(VENV) --which)"; \
	  sh scripts/install-requirements $$base $(VENV)
	touch $(INSTALLED)

# A .venv made by another Python than the one asked for is made again.
setup:
	@base=$$(sh scripts/find-python $(PYTHON)) || exit 1; \
	  if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print(sys.version_info[:2])')" != "$$($$base -c 'import sys; print(sys.version_info[:2])')" ]; then \
	    echo "$(VENV) was made with another Python; making it again with $$base"; rm -rf $(VENV); fi
	@$(MAKE) --no-print-directory $(INSTALLED)

# axe-core, the accessibility checker of the browser tests (npm ci installs exactly package-lock.json).
# Without npm the accessibility tests are skipped, and pytest's closing lines say so (failed with CI=true).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	  else echo "No npm: the accessibility tests will be skipped (Debian/Ubuntu: apt-get install npm)"; fi

# JupyterLab's terminals start bash with workbook/lab_terminal.bashrc, which activates .venv
# after ~/.bashrc (else `python` and `flask` there may be another Python's, or none).
# LAB_OPTIONS: more jupyter lab options (the tests set a port and a token).
LAB_TERMINAL := $(if $(shell command -v bash),--ServerApp.terminado_settings=shell_command="bash --rcfile '$(CURDIR)/workbook/lab_terminal.bashrc'")
lab: setup
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb \
	  $(LAB_TERMINAL) $(LAB_OPTIONS)

# Lint, then every Python test and every notebook (solutions: all ✅; fresh copies: all ⏳) in one
# pytest run spread over the machine's cores (pytest-xdist; --dist loadscope keeps a file's tests,
# and the server or kernel they share, on one worker, a class's tests when it has classes: a
# notebook's cells stay in order in one kernel). --no-loadscope-reorder: the files go out in the order
# tests/conftest.py gives them, the long ones (browsers, servers) first. Prints how long it took,
# install included. One worker more than the machine has cores: many files wait on processes of their
# own (a grading run's time limits, servers, Chromium, JupyterLab), and a third worker on 2 cores
# fills that time (bench/README.md: 9% shorter); `make test WORKERS=2` to choose.
CORES := $(shell getconf _NPROCESSORS_ONLN 2>/dev/null)
WORKERS ?= $(if $(CORES),$(shell expr $(CORES) + 1),auto)
NOTEBOOK_OPTIONS := --nbval-lax --nbval-cell-timeout=120
test:
	@start=$$(date +%s); \
	  $(MAKE) --no-print-directory setup node_modules/.package-lock.json lint && \
	  $(PY) -m pytest -n $(WORKERS) --dist loadscope --no-loadscope-reorder --durations=10 $(NOTEBOOK_OPTIONS) tests solutions notebooks; \
	  status=$$?; echo "make test: $$(( $$(date +%s) - start )) s, install included (exit status $$status)"; \
	  exit $$status

# Without notebooks, nbval is not loaded (-p no:nbval): importing it (jsonschema) costs each pytest process ~1.5 s.
test-python: setup node_modules/.package-lock.json
	$(PY) -m pytest -n $(WORKERS) --dist loadscope --no-loadscope-reorder -p no:nbval tests

test-notebooks: setup
	$(PY) -m pytest -n $(WORKERS) --dist loadscope --no-loadscope-reorder $(NOTEBOOK_OPTIONS) solutions notebooks

# Lint and import order (pyproject.toml [tool.ruff]).
lint: setup
	$(VENV)/bin/ruff check .

# A quick loop while editing, under 60 s (bench/README.md): without the slow tests (real servers, browsers,
# pytest runs of their own, months of simulated guessing), and each stage 7 behaviour test on stage 7 only
# (--each-stage-test-once; stage 8 runs its own tests, and tests/test_stage_copies.py checks that stage 8
# changes no other file of stage 7). `make test` runs all of these and the rest.
# One worker per core here: these tests seldom wait, and an extra worker costs its own start.
FAST_WORKERS ?= auto
test-fast: setup
	$(PY) -m pytest -n $(FAST_WORKERS) --dist loadscope --no-loadscope-reorder -p no:nbval tests -m "not slow and not browser" \
	  --each-stage-test-once

diffs: setup
	$(PY) -m workbook diffs

release: setup
	$(PY) -m workbook release

clean:
	rm -rf $(VENV) .pytest_cache node_modules
