# Two commands: `make run` serves the app, `make test` runs ruff, mypy and the whole suite.
# Both create the venv on first use and re-install only when pyproject.toml or a requirements file changed.
# Dependencies are declared in pyproject.toml; requirements*.txt pin torch==2.13.0 and install this project.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Optional extra package index for torch's CPU build on a machine whose pip would otherwise pull the CUDA one:
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# --no-build-isolation: the venv's own setuptools builds the editable install, so nothing is fetched to build.
PIP_INSTALL := $(PY) -m pip install --quiet --no-build-isolation $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))

.PHONY: run test lint install install-dev browser clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml requirements.txt | $(VENV)/bin/activate
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet "setuptools>=70.1"
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.txt $(VENV)/.installed
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

# The SNN libraries the cross-library NIR tests run (tests/core/interop/): snnTorch, Norse, SpikingJelly and the
# pure-Python packages they import, WITHOUT their declared dependencies, which would replace the pinned torch.
$(VENV)/.installed-interop: requirements-bench.txt $(VENV)/.installed-dev
	$(PIP_INSTALL) --no-deps -r requirements-bench.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev $(VENV)/.installed-interop

# The same server as the `snn-explorer` entry point (snn_app/launch.py holds the flags).
run: install
	$(VENV)/bin/snn-explorer --server.port $(PORT)

# ruff over the repository, then mypy over snn_core ([tool.mypy] in pyproject.toml)
lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint browser
	$(PY) -m pytest -q

# The browser test drives Debian's Chromium; install it when missing and we may (root with apt-get).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and cannot be installed here: the browser test will skip"; fi

# .cache holds the run cache (.cache/runs) and framed real recordings (.cache/frames): both rebuilt on use.
clean:
	rm -rf $(VENV) .pytest_cache .cache artifacts *.egg-info
