# The course in two commands:  make lab  (set up and open)   make test  (set up and check everything)
# Both install requirements/lock.txt (every package pinned, with hashes) with plain pip: only Python 3.11+ and make needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    ?= $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/lock.txt
PORT   ?= 8888
FIRST  := notebooks/00_course_map.ipynb
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
UV     := uv==0.13.9
LINTED := emlib tests tools benchmarks

.PHONY: lab serve test test-unit test-notebooks test-lowest test-latest lock lint notebooks exercises grade bench mutate mutate-course \
        slides html test-browser clean help

help:
	@echo "make lab          set up .venv from the lock (first time) and open the course in JupyterLab"
	@echo "make test         set up .venv from the lock (first time) and run every test"
	@echo "make notebooks    re-execute notebooks/ and solutions/ in fresh kernels (NB=path for some)"
	@echo "make exercises    regenerate exercises/ from solutions/"
	@echo "make grade SUBMISSIONS=folder   grade student notebooks in a sandbox (FORCE=1 replaces grades/grades.csv)"
	@echo "make bench        speed of emlib against scikit-learn"
	@echo "make mutate       mutation testing of emlib's core (mutmut; about 40 minutes on 2 cores, see CONTRIBUTING.md)"
	@echo "make slides       offline reveal.js decks of the lecture in site/slides/ (Alt+R in JupyterLab presents live)"
	@echo "make html         the course as a static web site in site/ (open site/index.html), with offline search"
	@echo "make test-browser the EM explorer in JupyterLab in headless Chromium (installs Chromium as root)"
	@echo "make lock         re-resolve requirements/lock.txt (and environment.yml, .binder/) from pyproject.toml"
	@echo "make test-lowest  the tests with the lowest versions pyproject.toml allows (.venv-lowest)"
	@echo "make test-latest  the tests with the newest versions on PyPI (.venv-latest)"
	@echo "make lint         ruff on $(LINTED)"

# (Re)install when the lock or pyproject.toml changes; a no-op otherwise. --require-hashes: exactly the
# tested files; --no-deps: nothing unpinned sneaks in; --no-build-isolation: emlib is built with the locked setuptools.
$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "The course needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1). Try: make PYTHON=python3.11 ..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check >/dev/null || $(BIN)/python -m pip check
	@touch $(STAMP)

lab: $(STAMP)
	@$(MAKE) --no-print-directory serve

# JupyterLab with a token of our own (so Jupyter prints no URLs of its own) and exactly one URL printed: ours.
serve:
	@token=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(24))"); \
	echo "Open the course:  http://127.0.0.1:$(PORT)/lab/tree/$(FIRST)?token=$$token"; \
	echo "(Ctrl+C twice stops JupyterLab; PORT=9999 make lab picks another port)"; \
	JUPYTER_TOKEN=$$token exec $(BIN)/jupyter lab $(FIRST) --ip=127.0.0.1 --port=$(PORT) \
	  --ServerApp.port_retries=0 --ServerApp.log_level=WARN --LabApp.log_level=WARN $(ROOT_FLAG) $(LAB_FLAGS)

test: $(STAMP)
	$(BIN)/python -m pytest tests $(NBVAL) notebooks solutions

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks solutions

# The lock from pyproject.toml, for every platform, with hashes; also environment.yml and .binder/runtime.txt.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import uv" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(UV)"
	$(BIN)/python tools/lock.py

# True lower and upper bounds: a fresh venv each, resolved by uv from pyproject.toml (not the lock), every test.
# Run with the lowest Python allowed (3.11) for test-lowest. What they installed: .venv-*/installed.txt.
test-lowest:
	@$(MAKE) --no-print-directory _test-resolved RESOLVED=.venv-lowest RESOLUTION=lowest-direct
test-latest:
	@$(MAKE) --no-print-directory _test-resolved RESOLVED=.venv-latest RESOLUTION=highest
_test-resolved:
	rm -rf $(RESOLVED)
	$(PYTHON) -m venv $(RESOLVED)
	$(RESOLVED)/bin/python -m pip install --quiet "$(UV)"
	$(RESOLVED)/bin/uv pip install --quiet --python $(RESOLVED)/bin/python --refresh --resolution $(RESOLUTION) -e ".[test,apps,site,scale]"
	$(RESOLVED)/bin/python -m pip list --format=freeze > $(RESOLVED)/installed.txt
	$(RESOLVED)/bin/python -m pytest tests $(NBVAL) notebooks solutions

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)

# Re-execute notebooks in a fresh kernel and store their outputs (NB="notebooks/04_*.ipynb" for some);
# records the package versions in each notebook's metadata and stores no execution timestamps.
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

# Mutation testing of the core (CONTRIBUTING.md): mutmut 3 mutates emlib's core modules and runs the
# fast unit tests that call each mutated function; the score per module follows. Results are cached in
# mutants/ (a second run only re-checks what changed); MUTANTS="emlib.kmeans*" runs one module.
JOBS ?= 2
mutate: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet "mutmut>=3.8,<4"
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/mutmut run --max-children $(JOBS) $(MUTANTS) > mutants.log 2>&1 || { tail -c 2000 mutants.log; exit 1; }
	$(BIN)/python tools/mutation_score.py --survivors

# The same for the course tooling (emlib/course/checks, grade), measured without a target.
mutate-course: $(STAMP)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet "mutmut>=3.8,<4"
	mkdir -p build/mutate-course
	cp -r emlib tests tools solutions exercises build/mutate-course/
	cp tools/mutmut-course.toml build/mutate-course/pyproject.toml
	cd build/mutate-course && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  ../../$(BIN)/mutmut run --max-children $(JOBS) $(MUTANTS) > mutants.log 2>&1 || { tail -c 2000 mutants.log; exit 1; }
	cd build/mutate-course && ../../$(BIN)/python tools/mutation_score.py

# Offline reveal.js decks of the lecture notebooks in site/slides/ (reveal.js from npm, once, into build/).
slides: $(STAMP)
	$(BIN)/python tools/slides.py --build

# The course as a static site in site/, from the stored outputs (nothing is executed), searchable offline (pagefind).
html: $(STAMP)
	$(BIN)/python tools/build_site.py

# JupyterLab in a real browser: Debian's Chromium and Playwright for Python, pinned in requirements/browser.txt
# (never a browser download).
test-browser: $(STAMP)
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 || { echo "as root: apt-get install -y chromium chromium-driver"; exit 1; }; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/browser.txt
	$(BIN)/python tools/browser_test.py

clean:
	rm -rf $(VENV) .venv-lowest .venv-latest build site grades .pytest_cache mutants mutants.log
