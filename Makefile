# ML2 HW1: the pipeline's table of contents. `make help` lists every target.
# QUICK=1 on any target: the same pipeline with few epochs and one seed, in results/quick/.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.DELETE_ON_ERROR:

QUICK ?=
export QUICK
PY := .venv/bin/python
STAMP := .venv/.setup-done
MNIST := $(addprefix data/MNIST/raw/,train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(STAMP)  ## create .venv, install the project into it, make sure TeX is present

# Keyed on pyproject.toml: a second `make setup` does nothing.
$(STAMP): pyproject.toml report/ensure_tex.sh
	bash report/ensure_tex.sh
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

data: | $(STAMP)  ## fetch MNIST into data/MNIST/raw and verify its MD5s (a no-op when present)
	$(PY) -m experiments.mnist fetch

$(MNIST) &: | $(STAMP)
	$(PY) -m experiments.mnist fetch

test: $(MNIST) | $(STAMP)  ## run every test, the slow end-to-end ones too
	$(PY) -m pytest

clean:  ## remove results and report builds (keeps data/ and .venv/)
	rm -rf results report/build report/report.pdf report/report-quick.pdf report/hw1_*.zip

.PHONY: help setup data test clean
