# specdec: `make html` builds the site (setting up what it needs), `make test` runs every check.
# Recipes use only POSIX tools, python3 (>= 3.11) and npm.

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
SPHINXBUILD := $(VENV)/bin/sphinx-build
SPHINXOPTS  ?= -W --keep-going -n
SOURCEDIR   := docs
BUILDDIR    := _build
PORT        ?= 8000
# Extras installed into .venv; .ci/run adds `train` (JAX), so CI also runs the tutor's training test.
SPECDEC_EXTRAS ?= docs,test
MERMAID_DIR := docs/_static/mermaid
MERMAID_DIST:= node_modules/mermaid/dist
MATHJAX_DIR := docs/_static/mathjax
MATHJAX_ES5 := node_modules/mathjax/es5
PYODIDE_DIR := docs/_static/pyodide
PYODIDE_NPM := node_modules/pyodide
# What the calculator page loads (the interpreter, its standard library, the package index it reads)
PYODIDE_FILES := pyodide.mjs pyodide.asm.mjs pyodide.asm.wasm python_stdlib.zip pyodide-lock.json

.PHONY: help html doctest test lint serve clean setup assets prerequisites train

help:
	@echo "make html     set up .venv and the mermaid, MathJax and Pyodide bundles, build the site into $(BUILDDIR)/html (strict)"
	@echo "make serve    serve $(BUILDDIR)/html on http://127.0.0.1:$(PORT) (another port: make serve PORT=8001)"
	@echo "make doctest  run every example on every page (Sphinx doctest builder)"
	@echo "make test     the whole suite: ruff, unit tests, page examples, strict build, browser check"
	@echo "make lint     ruff check and ruff format --check (the first step of make test)"
	@echo "make clean    remove build outputs (keeps .venv and node_modules)"
	@echo "make train    retrain the grammar tutor and its draft, overwriting the shipped weights (train extra)"

# --- set-up -------------------------------------------------------------------------------------
# Checked before anything is installed, each with a one-line hint.
prerequisites:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "make: needs Python >= 3.11 as '$(PYTHON)' (set PYTHON=python3.12, say)"; exit 1; }
	@command -v npm >/dev/null 2>&1 || \
	  { echo "make: needs npm >= 7 for the mermaid, MathJax and Pyodide bundles (apt-get install npm, or nodejs.org)"; exit 1; }

# One stamp per set of extras: asking for more extras (CI adds `train`) installs them into an existing .venv.
comma := ,
VENV_STAMP := $(VENV)/.installed-$(subst $(comma),-,$(SPECDEC_EXTRAS))

$(VENV_STAMP): pyproject.toml | prerequisites
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(SPECDEC_EXTRAS)]"
	touch $@

node_modules/.installed: package.json package-lock.json | prerequisites
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The ESM build of mermaid and its chunks, copied where Sphinx serves static files.
$(MERMAID_DIR)/mermaid.esm.min.mjs: node_modules/.installed
	rm -rf $(MERMAID_DIR)
	mkdir -p $(MERMAID_DIR)/chunks
	cp $(MERMAID_DIST)/mermaid.esm.min.mjs $(MERMAID_DIR)/
	cp -R $(MERMAID_DIST)/chunks/mermaid.esm.min $(MERMAID_DIR)/chunks/
	cp node_modules/mermaid/LICENSE $(MERMAID_DIR)/

# MathJax 3 (CommonHTML output), with its web fonts and the TeX extensions it loads on demand.
$(MATHJAX_DIR)/tex-chtml.js: node_modules/.installed
	rm -rf $(MATHJAX_DIR)
	mkdir -p $(MATHJAX_DIR)/output
	cp $(MATHJAX_ES5)/tex-chtml.js $(MATHJAX_DIR)/
	cp -R $(MATHJAX_ES5)/input $(MATHJAX_ES5)/ui $(MATHJAX_ES5)/a11y $(MATHJAX_ES5)/adaptors $(MATHJAX_DIR)/
	cp -R $(MATHJAX_ES5)/output/chtml $(MATHJAX_ES5)/output/chtml.js $(MATHJAX_DIR)/output/
	cp node_modules/mathjax/LICENSE $(MATHJAX_DIR)/

# Pyodide (CPython compiled to WebAssembly) for the calculator page, which runs specdec's pure-Python
# roofline and speedup code in the reader's browser: only the files it loads, and its package.json (licence).
$(PYODIDE_DIR)/pyodide.mjs: node_modules/.installed
	rm -rf $(PYODIDE_DIR)
	mkdir -p $(PYODIDE_DIR)
	cd $(PYODIDE_NPM) && cp $(PYODIDE_FILES) package.json $(CURDIR)/$(PYODIDE_DIR)/

setup: $(VENV_STAMP)
assets: $(MERMAID_DIR)/mermaid.esm.min.mjs $(MATHJAX_DIR)/tex-chtml.js $(PYODIDE_DIR)/pyodide.mjs

# --- the three reader commands --------------------------------------------------------------------
html: prerequisites setup assets
	$(SPHINXBUILD) -M html $(SOURCEDIR) $(BUILDDIR) -c . $(SPHINXOPTS)

# The doctest builder keeps its own environment (-d): sharing one with html, a page whose only change is
# in a file it includes (a survey file, a recorded result) was re-read by `make doctest` and then not
# rewritten by `make html`, which compares its outputs with the pages' own sources.
doctest: setup
	$(SPHINXBUILD) -M doctest $(SOURCEDIR) $(BUILDDIR) -c . $(SPHINXOPTS) -d $(BUILDDIR)/doctrees-doctest

# ruff first (lint, then formatting; configured in pyproject.toml), then pytest, which builds the site
# from scratch (strict), runs the doctest builder and the browser check (tests/test_site.py,
# tests/test_browser.py) besides the unit tests; its summary line ends the run.
test: prerequisites setup assets lint
	$(PY) -m pytest -n auto --dist loadgroup

lint: setup
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check

# Retrains into the repository: the shipped weights, the tokenizer and the training record are replaced.
train: setup
	$(PY) -m pip install --quiet -e ".[train]"
	@echo "make train: this overwrites the shipped weights (src/specdec/tutor/weights/) and"
	@echo "  bench/results/tutor-train.json; checkpoints go to $(BUILDDIR)/tutor-train (resume: add --resume)"
	$(PY) -m specdec.tutor.train --out src/specdec/tutor/weights --record bench/results/tutor-train.json \
	  --checkpoints $(BUILDDIR)/tutor-train/checkpoints $(TRAIN_ARGS)

serve:
	@test -f $(BUILDDIR)/html/index.html || { echo "run 'make html' first"; exit 1; }
	@$(PY) -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", $(PORT)))' 2>/dev/null || \
	  { echo "make serve: port $(PORT) is busy; choose another, e.g. make serve PORT=8001"; exit 1; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory $(BUILDDIR)/html

clean:
	rm -rf $(BUILDDIR) $(MERMAID_DIR) $(MATHJAX_DIR) $(PYODIDE_DIR)
