# Two commands: `make lab` opens the workbook, `make test` runs every test.
# Both create .venv and install requirements.txt first, when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# JupyterLab refuses to run as root (containers, Codespaces) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test test-fast diffs release clean

$(INSTALLED): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(INSTALLED)

setup: $(INSTALLED)

# axe-core, the accessibility checker of the browser tests (npm ci installs exactly package-lock.json).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# JupyterLab's terminals start bash with workbook/lab_terminal.bashrc, which activates .venv
# after ~/.bashrc (else `python` and `flask` there may be another Python's, or none).
# LAB_OPTIONS: more jupyter lab options (the tests set a port and a token).
LAB_TERMINAL := $(if $(shell command -v bash),--ServerApp.terminado_settings=shell_command="bash --rcfile '$(CURDIR)/workbook/lab_terminal.bashrc'")
lab: setup
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb \
	  $(LAB_TERMINAL) $(LAB_OPTIONS)

# Python tests first, then every notebook (solutions: all ✅; fresh copies: all ⏳).
test: setup node_modules/.package-lock.json
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval-lax --nbval-cell-timeout=120 solutions notebooks

# Without the slow tests (real servers, browsers), for a quick loop while editing.
test-fast: setup
	$(PY) -m pytest tests -m "not slow and not browser"

diffs: setup
	$(PY) -m workbook diffs

release: setup
	$(PY) -m workbook release

clean:
	rm -rf $(VENV) .pytest_cache node_modules
