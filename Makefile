# The course in two commands:  make lab  (set up and open)   make test  (set up and check everything)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
FIRST  := notebooks/00_course_map.ipynb
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test test-unit test-notebooks notebooks exercises grade bench mutate mutate-course slides html test-browser clean help

help:
	@echo "make lab        set up .venv (first time) and open the course in JupyterLab"
	@echo "make test       set up .venv (first time) and run every test"
	@echo "make notebooks  re-execute notebooks/ and solutions/ in fresh kernels (NB=path for some)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make grade SUBMISSIONS='a.ipynb b.ipynb'   grade student notebooks"
	@echo "make bench      speed of emlib against scikit-learn"
	@echo "make mutate     mutation testing of emlib's core (mutmut; about an hour on 2 cores, see CONTRIBUTING.md)"
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

grade: $(STAMP)
	$(BIN)/python -m emlib.course.grade $(SUBMISSIONS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

# Mutation testing of the core (CONTRIBUTING.md): mutmut 3 mutates emlib's core modules and runs the
# fast unit tests that call each mutated function; the score per module follows. Results are cached in
# mutants/ (a second run only re-checks what changed); MUTANTS="emlib.kmeans*" runs one module.
JOBS ?= 2
mutate: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[mutate]"
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/mutmut run --max-children $(JOBS) $(MUTANTS) > mutants.log 2>&1 || { tail -c 2000 mutants.log; exit 1; }
	$(BIN)/python tools/mutation_score.py --survivors

# The same for the course tooling (emlib/course/checks, grade), measured without a target.
mutate-course: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[mutate]"
	mkdir -p build/mutate-course
	cp -r emlib tests tools solutions exercises build/mutate-course/
	cp tools/mutmut-course.toml build/mutate-course/pyproject.toml
	cd build/mutate-course && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  ../../$(BIN)/mutmut run --max-children $(JOBS) $(MUTANTS) > mutants.log 2>&1 || { tail -c 2000 mutants.log; exit 1; }
	cd build/mutate-course && ../../$(BIN)/python tools/mutation_score.py

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
	rm -rf $(VENV) build site grades .pytest_cache mutants mutants.log
