# One entry point for the course. `make help` lists the targets.
# Every target sets up what it needs first; after the first run, set-up is a no-op (stamp files).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
# nbgrader and jupyter-book call helper programs by name: the venv's scripts come first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
# notebooks show figures through the kernel's inline backend; a non-interactive MPLBACKEND hides them
unexport MPLBACKEND

LESSONS := $(sort $(wildcard book/[0-9][0-9]-*.ipynb))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist

.PHONY: help setup book serve check test lint lab lab-instructor check-exercise execute colab-cells release collect-zip grade export hub bench audit clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: $(STAMPS)/python $(STAMPS)/apt $(STAMPS)/npm  ## venv, packages, dataset, browser, KaTeX, axe-core

$(STAMPS)/python: pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@# the kernel of the learners' JupyterLab starts with TensorFlow's C++ start-up messages and
	@# oneDNN's custom operations off, even before course_utils is imported and however
	@# JupyterLab was started (course_utils/repro.py says why)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
	  --display-name "Python 3 (ipykernel)" --env TF_CPP_MIN_LOG_LEVEL 2 \
	  --env TF_ENABLE_ONEDNN_OPTS 0 >/dev/null
	@touch $@

# Debian packages: dataset-fashion-mnist puts the original files where course_utils.data looks
# first; chromium is the real browser of tests/book and tests/lab; postgresql runs a class's
# gradebook; bubblewrap seals each grading kernel (course_grading.sandbox). Without apt (macOS,
# conda, no root) the loader falls back to the Keras cache, the browser tests are skipped, and
# grading runs without its sandbox (with a warning).
APT_PACKAGES := dataset-fashion-mnist chromium postgresql bubblewrap
$(STAMPS)/apt: Makefile
	@mkdir -p $(STAMPS)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "Debian packages: $(APT_PACKAGES) installed"; \
	elif command -v apt-get >/dev/null; then \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing) \
	  || echo "warning: could not install $$missing"; \
	else echo "note: no apt-get; Fashion-MNIST comes from COURSE_DATA_DIR or the Keras cache"; fi
	@touch $@

# npm packages of package-lock.json into node_modules/: KaTeX, which typesets the book's formulas
# when it is built, axe-core for the browser tests, and with `make audit` also Lighthouse (a
# devDependency). None of them may download a browser of its own.
export PUPPETEER_SKIP_DOWNLOAD := 1
NPM_CI := npm ci --no-audit --no-fund --ignore-scripts
$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	$(NPM_CI) --omit=dev
	@touch $@

$(STAMPS)/npm-audit: package.json package-lock.json
	@mkdir -p $(STAMPS)
	$(NPM_CI)
	@touch $@ $(STAMPS)/npm

book: setup  ## build the HTML book into _build/html (zero warnings allowed)
	$(BIN)/jupyter-book build . -W -n --keep-going

# Opened from file://, browsers refuse the pages' requests for one another (CORS): serve them.
SERVE_PORT ?= 8000
serve:  ## serve the built book on http://127.0.0.1:8000 (make book first)
	$(BIN)/python -m http.server --directory _build/html --bind 127.0.0.1 $(SERVE_PORT)

# Tests run on TEST_WORKERS processes (pytest-xdist). TEST_WORKERS=0 runs everything in one.
TEST_WORKERS ?= 2

# The unit tests of the three packages (learners' helpers, instructors' grading, maintainers'
# tools) and the repository's own checks: no notebook, nbgrader run, book or browser. Those
# marked slow (a training run in a fresh process, a real gradebook) run in make test only.
UNIT_TESTS := tests/course_utils tests/course_grading tests/course_authoring tests/repository

check: setup  ## the quick loop: lint and every fast unit test (about a minute)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -q -m "not slow" $(UNIT_TESTS)

# make test: a test file or notebook per process at a time, longest first (tests/conftest.py);
# its CPU time is printed at the end (budget: 15 CPU-minutes, user + system)
test: setup  ## every check: lint, units, grading runs, book + browser, JupyterLab, nbval lessons
	$(BIN)/ruff check .
	$(BIN)/python -m course_authoring check $(LESSONS)
	$(BIN)/python -m course_authoring.cpu_time $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15 \
	  -p tests.lessons.nbval_plugin --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/lessons/sanitize.cfg \
	  tests $(LESSONS)

lint: setup  ## ruff on the packages, tests and notebooks
	$(BIN)/ruff check .

# EXERCISE: a notebook's path, or an exercise of work/ by name or number (01, 04-baseline-mlp)
check-exercise: setup  ## learners: your exercise graded with all its tests, e.g. make check-exercise EXERCISE=01
	@test -n "$(EXERCISE)" || { echo "say which exercise, e.g. make check-exercise EXERCISE=01"; exit 2; }
	$(BIN)/python -m course_grading check "$(EXERCISE)"

lab: setup  ## JupyterLab for learners: your exercises in work/ (copied from notebooks/ once, never overwritten)
	$(BIN)/python -m course_utils.workspace
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter/learner \
	  $(BIN)/jupyter lab --ServerApp.root_dir=. $(if $(SUDO),,--allow-root)

lab-instructor: setup  ## JupyterLab for instructors: every nbgrader tool on (Formgrader, Create Assignment)
	$(BIN)/jupyter lab --ServerApp.root_dir=. $(if $(SUDO),,--allow-root)

execute: setup  ## re-execute the lesson notebooks in place, in order, each in a fresh kernel
	$(BIN)/python -m course_authoring execute $(LESSONS)

# after a change of _config.yml's repository: the Colab set-up cell first in every lesson and
# exercise (course_authoring/colab.py); then `make release` and `make execute`
colab-cells: setup  ## rewrite the Colab set-up cell of every notebook from _config.yml's repository
	$(BIN)/python -m course_authoring colab-cells $(LESSONS) $(wildcard solutions/*/*.ipynb)

release: setup  ## regenerate notebooks/ (student copies) from solutions/ with nbgrader
	$(BIN)/python -m course_grading release

# ZIP: one zip of the class's notebooks downloaded from an LMS, named as nbgrader_config.py says
# (c.FileNameCollectorPlugin.named_regexp); an existing submission is never replaced
collect-zip: setup  ## an LMS's zip of notebooks into submitted/, e.g. make collect-zip ASSIGNMENT=01-concepts ZIP=class.zip
	@test -n "$(ASSIGNMENT)" -a -n "$(ZIP)" || { echo "say which, e.g. make collect-zip ASSIGNMENT=01-concepts ZIP=class.zip"; exit 2; }
	$(BIN)/python -m course_grading collect-zip "$(ASSIGNMENT)" "$(ZIP)"

# ASSIGNMENT and STUDENT narrow the run (default: everything submitted); JOBS submissions at once
# (more than 1 needs the PostgreSQL gradebook); REGRADE=1 grades unchanged submissions again
JOBS ?= 1
grade: setup  ## autograde what is new or changed in submitted/<student>/<assignment>/, print scores
	$(BIN)/python -m course_grading grade $(ASSIGNMENT) $(if $(STUDENT),--student $(STUDENT)) \
	  --jobs $(JOBS) $(if $(REGRADE),--regrade)

export: setup  ## the gradebook's grades into exports/grades.csv (git-ignored)
	$(BIN)/python -m course_grading export

# A class on this machine (root): JupyterHub on 127.0.0.1:HUB_PORT, the accounts that are missing
# made with a printed password, the nbgrader exchange and a PostgreSQL gradebook; Ctrl-C stops it
HUB_INSTRUCTOR ?= instructor
HUB_STUDENTS ?= student1 student2 student3
HUB_PORT ?= 8000
hub: setup  ## a class on JupyterHub on this machine (root): make hub HUB_STUDENTS="ada bob"
	$(SUDO) $(BIN)/python -m course_grading.hub --instructor $(HUB_INSTRUCTOR) \
	  --students $(HUB_STUDENTS) --port $(HUB_PORT)

bench: setup  ## benchmarks: throughput and seed spread (chapter 4), the regularization ablation and runs (chapter 6), the framework comparison (chapter 7), the CNN and augmentation runs and what XLA costs on this CPU (chapters 6, 8), parallel grading, what the grading protections cost and what warm kernels save, how long make check-exercise takes, and exercise 6's recorded baseline
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/seed_spread.py
	$(BIN)/python benchmarks/regularization_ablation.py
	$(BIN)/python benchmarks/regularization_runs.py
	$(BIN)/python benchmarks/framework_comparison.py
	$(BIN)/python benchmarks/next_steps_runs.py
	$(BIN)/python benchmarks/xla_on_cpu.py
	$(BIN)/python benchmarks/parallel_grading.py
	$(BIN)/python benchmarks/grading_overhead.py
	$(BIN)/python benchmarks/warm_kernels.py
	$(BIN)/python benchmarks/check_exercise.py
	$(BIN)/python benchmarks/noisy_labels_baseline.py
	@echo "re-execute the chapters that show these numbers: make execute"

audit: book $(STAMPS)/npm-audit  ## Lighthouse on the intro, every lesson and exercise → benchmarks/lighthouse_audit.json
	$(BIN)/python benchmarks/lighthouse_audit.py

clean:  ## remove build outputs (keeps the virtual environment)
	rm -rf _build .pytest_cache .ruff_cache
