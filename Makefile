# The course in two commands:  make lab  (set up and open)   make test  (set up and check everything)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
FIRST  := notebooks/00_course_map.ipynb
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test test-unit test-notebooks notebooks exercises grade bench slides html test-browser clean help

help:
	@echo "make lab        set up .venv (first time) and open the course in JupyterLab"
	@echo "make test       set up .venv (first time) and run every test"
	@echo "make notebooks  re-execute notebooks/ and solutions/ in fresh kernels (NB=path for some)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make grade SUBMISSIONS=folder   grade student notebooks in a sandbox (FORCE=1 replaces grades/grades.csv)"
	@echo "make bench      speed of emlib against scikit-learn"
	@echo "make slides     offline reveal.js decks of the lecture in site/slides/ (Alt+R in JupyterLab presents live)"
	@echo "make html       the course as a static web site in site/ (open site/index.html)"
	@echo "make test-browser  the EM explorer in JupyterLab in headless Chromium (installs Chromium as root)"

# (Re)install when pyproject.toml changes; a no-op otherwise.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,apps]"
	@touch $(STAMP)

lab: $(STAMP)
	@echo "Opening the course at http://127.0.0.1:$(PORT)/lab/tree/$(FIRST)  (the full URL with its token follows)"
	$(BIN)/jupyter lab $(FIRST) --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG)

test: $(STAMP)
	$(BIN)/python -m pytest tests $(NBVAL) notebooks solutions

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks solutions

# Re-execute notebooks in a fresh kernel and store their outputs (NB="notebooks/04_*.ipynb" for some).
notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NB)

exercises: $(STAMP)
	$(BIN)/python -m emlib.course.make_exercises $(if $(FORCE),--force,)

# Each submission runs in a sandbox (unshare; as root, the student's code runs as nobody); see exercises/README.md.
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-or-notebooks [FORCE=1]"; exit 2; }
	$(BIN)/python -m emlib.course.grade $(SUBMISSIONS) $(if $(FORCE),--force,)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

# Offline reveal.js decks of the lecture notebooks in site/slides/ (reveal.js from npm, once, into build/).
slides: $(STAMP)
	$(BIN)/python tools/slides.py --build

# The course as a static site in site/, from the stored outputs (nothing is executed).
html: $(STAMP)
	$(BIN)/python tools/build_site.py

# JupyterLab in a real browser: Debian's Chromium and Playwright for Python (never a browser download).
test-browser: $(STAMP)
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 || { echo "as root: apt-get install -y chromium chromium-driver"; exit 1; }; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }
	@$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/python -m pip install --quiet "playwright>=1.40"
	$(BIN)/python tools/browser_test.py

clean:
	rm -rf $(VENV) build site grades .pytest_cache
