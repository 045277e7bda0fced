# ML2 HW1: the pipeline's table of contents. `make help` lists every target.
# QUICK=1 on any target: the same pipeline with few epochs and one seed, in results/quick/.
# [data] dataset of config.toml chooses the images: MNIST's task results live in results/q1 and
# results/q2, another dataset's apart in results/<dataset>/, so a switch never mixes them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.DELETE_ON_ERROR:

QUICK ?=
export QUICK
PY := .venv/bin/python
# Each step runs as `python -m pipeline MODULE ...` (pipeline/cli.py launch), so that Ctrl-C while
# the module is still importing torch ends in one line rather than an import traceback.
RUN := $(PY) -m pipeline
# A step that writes into the checkout runs under its lock (cli.launch): two makes at once take
# turns, and the second skips a step whose target ($@) another run wrote since it started.
STEP = $(RUN) --lock $@
HW1_MAKE_STARTED := $(shell date +%s.%N)
export HW1_MAKE_STARTED
STAMP := .venv/.setup-done
TEX := .venv/.tex-done
# An environment this user cannot run (made by another user, `sudo make setup` in a folder only
# root may enter): one line that says so, not the shell's "Permission denied ... Error 126". One
# that is missing or half made is left to `make setup`.
ifneq ($(filter-out help clean,$(or $(MAKECMDGOALS),help)),)
ifeq ($(shell ! test -x $(PY) && { test -e $(PY) || stat -L $(PY) 2>&1 | grep -q denied; } && echo bad),bad)
$(error $(PY) cannot be run by $(shell id -un) (permission denied): the environment was set up by \
another user; run `make setup` as yourself in a clone of your own, or give this user access to .venv)
endif
endif
ON := $(filter-out 0,$(QUICK))
R := results$(if $(ON),/quick)
PDF := report/report$(if $(ON),-quick).pdf

# The tasks are declared in pipeline/tasks.py, file names in pipeline/paths.py, each output's
# source files read off the imports (pipeline/sources.py), the dataset in config.toml.
# pipeline.config writes them as Make variables (TASKS, SECTIONS, CODE_<name>, FIGURES_<task>,
# RESULTS_<task>, IDX_FILES, DATASET, DATA_FILES, DATASET_DIR, MNIST_FILES, DATASET_OF_<folder>)
# into this file, rebuilt when any code changes (an edit may add an import); if that fails (an
# unknown [data] dataset, say), Make stops here with the message rather than running with empty
# prerequisite lists.
PATHS_MK := results/.paths.mk
include $(PATHS_MK)
CODE_FILES := $(wildcard hw1/*.py pipeline/*.py derivations/*.py experiments/*.py report/*.py report/*/*.py \
                         derivations/*.lark report/*/*.lua)
$(PATHS_MK): $(CODE_FILES) config.toml
	@mkdir -p $(@D)
	@tmp=$$(mktemp $@.XXXXXX) && python3 -m pipeline.config makefile > $$tmp && mv $$tmp $@ \
	  || { rm -f $$tmp; exit 1; }

# The tasks' results for [data] dataset (derivations, alike for every dataset, stay in $(R)).
RD := $(R)$(DATASET_DIR)
SECTION_FILES := $(foreach section,$(SECTIONS),$(R)/.config/$(section).json)
TASKS_OUT := $(foreach task,$(TASKS),$(addprefix $(RD)/$(task)/,$(RESULTS_$(task)) $(FIGURES_$(task))))
BUILD_JSON := report/build/$(if $(ON),quick,full)/build.json

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' Makefile | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(STAMP) $(TEX)  ## create .venv, install the project into it, make sure TeX is present

# Keyed on pyproject.toml (and $(TEX) on ensure_tex.sh): a second `make setup` does nothing. The
# environment alone is on the critical path: TeX installs in the background beside it and the
# pipeline (as root; otherwise the apt-get command is printed here, before any long work), and only
# the steps that typeset wait for it, through $(TEX).
$(STAMP): pyproject.toml
	@bash report/tex/ensure_tex.sh start
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TEX): report/tex/ensure_tex.sh | $(STAMP)
	@bash report/tex/ensure_tex.sh wait
	@touch $@

data: | $(STAMP)  ## fetch [data] dataset into data/<dataset>/raw and verify its MD5s (a no-op when present)
	$(STEP) experiments.fetch --dataset $(DATASET)

# Any dataset's four files (data/MNIST/raw/..., data/FashionMNIST/raw/...), fetched together.
$(addprefix data/%/raw/,$(IDX_FILES)) &: | $(STAMP)
	$(STEP) experiments.fetch --dataset $(DATASET_OF_$*)

# Each config section is its own file, rewritten only when that section changes: a [student]
# edit re-typesets, a [q2] edit re-runs Task 2 alone, a [data] edit switches the results folder
# and re-typesets from it. The recipe runs whenever config.toml is newer, but Make rebuilds only
# what depends on a section file whose content changed.
# A deleted config.toml: pipeline.config says which file is missing and how to restore it, where
# make alone would say "No rule to make target".
# With the system Python and no setup stamp: `make` alone (help) must install nothing.
config.toml:
	@python3 -m pipeline.config sections

.PRECIOUS: $(SECTION_FILES)  # a config typo must not delete them (that would re-run every experiment)
$(SECTION_FILES) &: config.toml | $(STAMP)
	@$(RUN) pipeline.config sections

derivations: $(R)/derivations.json  ## prove and verify the softmax gradients -> results/derivations.json

# Each output's code hash, rewritten only when it changed (pipeline/sources.py): Make re-runs what a
# change affects even when the files' times cannot show it (a module newly imported, an older
# version restored). Like the section files, the recipe runs whenever a code file is newer.
CODE_STAMPS := $(foreach output,derivations $(TASKS) plots report,results/.code/$(output).sha256)
.PRECIOUS: $(CODE_STAMPS)
$(CODE_STAMPS) &: $(CODE_FILES)
	@python3 -m pipeline.sources stamps

$(R)/derivations.json: $(CODE_derivations) results/.code/derivations.sha256 | $(STAMP)
	$(STEP) derivations build

experiments: $(TASKS_OUT)  ## Task 1 and Task 2 on [data] dataset: metrics, weights, figures -> results/q1, results/q2

# The rules of one task (pipeline/tasks.py), made for each of TASKS: its run writes all its results
# at once from its code and its config section; its figures are drawn from its metrics. The data
# are order-only: their content is fixed by MD5, so a re-fetch with new timestamps re-runs nothing.
# Precious, although .DELETE_ON_ERROR: each step replaces its files itself, all at once and only
# when it has finished (a results folder as a whole, a figure or the PDF by rename), so a failed,
# diverged or interrupted run must leave the previous results whole, which make would delete.
.PRECIOUS: $(TASKS_OUT) $(R)/derivations.json $(PDF) $(BUILD_JSON)
define TASK_RULES
$(addprefix $(RD)/$(1)/,$(RESULTS_$(1))) &: $(CODE_$(1)) results/.code/$(1).sha256 $(R)/.config/$(1).json | $(DATA_FILES) $(STAMP)
	$$(STEP) experiments.$(1) run

$(addprefix $(RD)/$(1)/,$(FIGURES_$(1))) &: $(RD)/$(1)/metrics.json $(CODE_plots) results/.code/plots.sha256
	$$(STEP) experiments.plots $(1)
endef
$(foreach task,$(TASKS),$(eval $(call TASK_RULES,$(task))))

report: $(PDF) $(BUILD_JSON)  ## everything: data, derivations, experiments, figures -> report/report.pdf

# The templates' names, rewritten when one is added, deleted or renamed: $(wildcard) alone lists
# only the templates that exist, so a deletion would leave the PDF looking up to date.
TEMPLATE_LIST := $(R)/.config/templates.txt
$(shell mkdir -p $(R)/.config && ls templates/*.tex.j2 2>/dev/null | cmp -s - $(TEMPLATE_LIST) \
        || ls templates/*.tex.j2 > $(TEMPLATE_LIST) 2>/dev/null)

# One PDF for every dataset: the [data] section file makes a switch back rebuild it from the
# earlier results, which are older than the PDF of the other dataset.
# FORCE: the step always runs, and typesets only when an input's content differs from what
# build.json records (a file put back with its old time stamp is no change to Make); otherwise it
# says the PDF is up to date, in about a second.
$(PDF) $(BUILD_JSON) &: $(wildcard templates/*.tex.j2 templates/*.bib) $(TEMPLATE_LIST) $(CODE_report) results/.code/report.sha256 \
        $(R)/.config/student.json \
        $(R)/.config/report.json $(R)/.config/data.json $(R)/derivations.json \
        $(TASKS_OUT) FORCE | $(STAMP) $(TEX)
	$(STEP) report build

FORCE:

names: $(R)/derivations.json $(TASKS_OUT) | $(STAMP)  ## every value a template may print: its expression, value and meaning, by task
	@$(RUN) report.render.names list

watch: | $(STAMP)  ## rebuild the PDF on every save of a template or config.toml; one line each (Ctrl-C stops)
	@$(RUN) report.watch

# What no report could make packable (QUICK=1, [student] unset, another dataset) is refused
# before the report is built; a refusal keeps the last verified zip.
submission: | $(STAMP)  ## pack and verify report/hw1_<id>.zip: PDF, scripts, hw1/, weights
	@$(RUN) report.bundle.submission precheck
	@$(MAKE) --no-print-directory report
	$(STEP) report.bundle.submission pack

# The LaTeX source alone, for Overleaf or a co-author with only LaTeX, packed from the built report
# and checked to typeset to its text. Older bundles go first, as for the submission.
source: | $(STAMP)  ## pack and verify report/hw1_<id>_source.zip: the .tex files, figures, latexmkrc
	@rm -f report/hw1_*_source$(if $(ON),-quick).zip
	@$(MAKE) --no-print-directory report
	$(RUN) report.bundle.source

bench: $(DATA_FILES) | $(STAMP)  ## one Task 1 epoch: scratch vs torch.nn vs DataLoader -> results/bench.json
	$(STEP) experiments.bench

# On both cores (pytest-xdist). The quick results that the report's tests read from this checkout
# are made first, once, so that no test runs while another worker's fixture rewrites them.
test: $(MNIST_FILES) $(DATA_FILES) | $(STAMP) $(TEX)  ## run every test, the slow end-to-end ones too; ARGS="-k budget" passes options to pytest
	@QUICK=1 $(MAKE) --no-print-directory experiments derivations
	$(PY) -m pytest -n 2 $(ARGS)

clean:  ## remove results and report builds (keeps data/ and .venv/)
	rm -rf results report/build report/report.pdf report/report-quick.pdf report/hw1_*.zip \
	       report/.written.json

.PHONY: help setup data derivations experiments report names watch submission source bench test clean FORCE
