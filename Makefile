# The two commands of the README: `make demo` and `make test`.
# Each installs what is missing, then runs:
#   - R and its packages from Debian's packages (CRAN is not reachable),
#   - .venv with the pinned development install (torch 2.13.0 CPU, numpy < 2, rpy2 3.5.17),
#   - the R package into .rlib.
# Nothing here needs a GPU.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
QUIET_PIP := 2> >(grep -v "^WARNING: Location" >&2)

# R finds the core through GRADLM_PYTHON and the package through R_LIBS_USER.
export GRADLM_PYTHON := $(abspath $(VENV))/bin/python
export R_LIBS_USER := $(abspath .rlib)
export RETICULATE_PYTHON := $(GRADLM_PYTHON)

R_DEBS := r-base-core r-base-dev r-cran-reticulate r-cran-testthat r-cran-knitr \
          r-cran-rmarkdown r-cran-generics r-cran-broom r-cran-glmnet r-cran-tibble pandoc qpdf
R_PKGS := reticulate testthat knitr rmarkdown generics broom glmnet tibble
R_SOURCES := $(shell find R -type f -not -path '*/.*' -not -path 'R/inst/python/*' 2>/dev/null)
# The R package carries the Python core: python/gradlm, copied into
# R/inst/python/gradlm (generated, not committed) before the package is built
# or installed, so that R code and core always match.
CORE_SOURCES := $(shell find python/gradlm -type f -not -path '*/__pycache__/*' 2>/dev/null)
R_CORE := R/inst/python/gradlm
# `make r-tarball` writes the R package's source tarball here.
R_BUILD_DIR ?= build/r-package

# `make r-docs-tarball` writes the source tarball with the vignettes built
# (R CMD build R, which runs them: it needs the Python side) here.
R_DOCS_DIR := build/r-package-docs
R_DOCS_TARBALL_STAMP := $(R_DOCS_DIR)/.built

VENV_STAMP := $(VENV)/.gradlm-installed
R_DEPS_STAMP := .rlib/.r-deps
R_PKG_STAMP := .rlib/gradlm/DESCRIPTION
# .rlib holds the package installed from the tarball with its vignettes.
R_DOCS_STAMP := .rlib/.gradlm-vignettes

.PHONY: demo test test-r test-python r-check r-core r-tarball r-docs-tarball vignettes bench install venv clean

# demo installs the R package with its vignettes built (R_DOCS_STAMP below),
# so that vignette(package = "gradlm") lists them; install stays quick.
demo: install $(R_DOCS_STAMP)
	$(VENV)/bin/gradlm demo
	Rscript -e 'demo("crops", package = "gradlm", ask = FALSE, echo = TRUE)'

test: install r-check vignettes test-python

install: $(VENV_STAMP) $(R_PKG_STAMP)

venv: $(VENV_STAMP)

# R, its packages and pandoc, from Debian's packages, when any is missing.
$(R_DEPS_STAMP):
	@if ! command -v Rscript >/dev/null || ! command -v pandoc >/dev/null || ! command -v qpdf >/dev/null || \
	    ! Rscript -e 'quit(status = !all(vapply(commandArgs(TRUE), requireNamespace, TRUE, quietly = TRUE)))' \
	      $(R_PKGS) >/dev/null 2>&1; then \
	  echo "Installing R and its packages from Debian: $(R_DEBS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(R_DEBS) >/dev/null; \
	fi
	mkdir -p .rlib && touch $@

# python3-venv is a separate Debian package; installed when venv creation fails.
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  apt-get update -qq && apt-get install -y -qq python3-venv python3-pip && $(PYTHON) -m venv $(VENV); }

# rpy2 compiles against R's headers (r-base-dev), so R comes first.
$(VENV_STAMP): $(VENV)/bin/python pyproject.toml requirements-dev.txt $(R_DEPS_STAMP)
	$(PIP) -r requirements-dev.txt $(QUIET_PIP)
	$(PIP) --no-deps -e . $(QUIET_PIP)
	touch $@

# The core's copy inside the R package (its __init__.py stands for it all).
r-core: $(R_CORE)/__init__.py

$(R_CORE)/__init__.py: $(CORE_SOURCES)
	rm -rf $(R_CORE) && mkdir -p $(dir $(R_CORE))
	cp -r python/gradlm $(R_CORE)
	find $(R_CORE) -name __pycache__ -prune -exec rm -rf {} +
	touch $@

# The R package as users install it: a source tarball with the core inside
# and the vignettes' sources, not built (that needs the Python side:
# `make r-docs-tarball` builds them). Needs R only.
r-tarball: $(R_CORE)/__init__.py
	mkdir -p $(R_BUILD_DIR) && cd $(R_BUILD_DIR) && rm -f gradlm_*.tar.gz && \
	  R CMD build --no-build-vignettes $(CURDIR)/R >r-build.log 2>&1 || { cat r-build.log; exit 1; }
	@ls $(R_BUILD_DIR)/gradlm_*.tar.gz

$(R_PKG_STAMP): $(R_SOURCES) $(R_CORE)/__init__.py $(R_DEPS_STAMP)
	R CMD INSTALL --no-test-load --library=.rlib R >/dev/null 2>build-r-install.log || { cat build-r-install.log; exit 1; }
	rm -f build-r-install.log

# The R package with its vignettes built: R/vignettes/*.Rmd is their one
# source. R CMD build installs the package into a temporary library and runs
# every vignette (R and Python chunks; a failed R/Python agreement assertion
# fails the build). Rebuilt only when the package or the core changes, so
# `make install` never runs the vignettes and `make demo` runs them once.
r-docs-tarball: $(R_DOCS_TARBALL_STAMP)

$(R_DOCS_TARBALL_STAMP): $(R_SOURCES) $(R_CORE)/__init__.py $(VENV_STAMP) $(R_DEPS_STAMP)
	rm -rf $(R_DOCS_DIR) && mkdir -p $(R_DOCS_DIR)
	cd $(R_DOCS_DIR) && R CMD build $(CURDIR)/R >build.log 2>&1 || { cat build.log; exit 1; }
	touch $@

# .rlib gets that tarball, so vignette(package = "gradlm") lists the five.
# Reinstalled when the tarball is rebuilt or `make install` has put a
# package without vignettes in its place.
$(R_DOCS_STAMP): $(R_DOCS_TARBALL_STAMP) $(R_PKG_STAMP)
	R CMD INSTALL --library=.rlib $(R_DOCS_DIR)/gradlm_*.tar.gz >build-r-install.log 2>&1 || { cat build-r-install.log; exit 1; }
	rm -f build-r-install.log
	Rscript -e 'v <- tools::getVignetteInfo("gradlm"); print(v[, "Title"]); stopifnot(nrow(v) == 5L)'
	touch $@

# R CMD check --as-cran of that tarball runs the testthat suite and rebuilds
# the vignettes; a WARNING fails too. qpdf serves its PDF check; the clock
# check asks a time server, which an offline machine cannot reach.
r-check: install $(R_DOCS_STAMP)
	rm -rf build/rcheck && mkdir -p build/rcheck
	cd build/rcheck && _R_CHECK_FORCE_SUGGESTS_=false _R_CHECK_SYSTEM_CLOCK_=0 \
	  R CMD check --as-cran --no-manual $(CURDIR)/$(R_DOCS_DIR)/gradlm_*.tar.gz \
	  || { cat gradlm.Rcheck/tests/testthat.Rout.fail 2>/dev/null; exit 1; }
	@! grep -E "^Status:.*(WARNING|ERROR)" build/rcheck/gradlm.Rcheck/00check.log

# R/vignettes/*.Rmd, R and Python chunks in one session, to self-contained
# HTML for reading outside R (tools/render_vignettes.R). A failed R/Python
# agreement assertion fails the render, and so make test.
vignettes: install
	Rscript tools/render_vignettes.R build/vignettes

# The benchmark suite: ratios measured side by side (not part of make test).
bench: install
	$(PY) benchmarks/run.py --out build/bench

# The testthat suite alone, against the installed package (quicker than r-check).
test-r: install
	cd R/tests && Rscript testthat.R

# pytest last, so its summary closes the log.
test-python: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .rlib build gradlm-demo .pytest_cache $(R_CORE)
