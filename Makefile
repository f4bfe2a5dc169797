# The two commands of the README: `make demo` and `make test`.
# Each installs what is missing (the .venv with the pinned development install),
# then runs. Nothing here needs a GPU.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gradlm-installed
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test venv clean

demo: $(STAMP)
	$(VENV)/bin/gradlm demo

test: $(STAMP)
	$(PY) -m pytest

venv: $(STAMP)

# python3-venv is a separate Debian package; install it when venv creation fails.
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  apt-get update && apt-get install -y python3-venv python3-pip && $(PYTHON) -m venv $(VENV); }

$(STAMP): $(VENV)/bin/python pyproject.toml requirements-dev.txt
	$(PIP) -r requirements-dev.txt 2> >(grep -v "^WARNING: Location" >&2)
	$(PIP) --no-deps -e . 2> >(grep -v "^WARNING: Location" >&2)
	touch $@

clean:
	rm -rf $(VENV) build gradlm-demo .pytest_cache
