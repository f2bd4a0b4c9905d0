"""The repository keeps its promises: one dependency list and its lock, a README that tells the truth."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import nbformat
import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import lock  # noqa: E402  (tools/lock.py: makes requirements/lock.txt, environment.yml, .binder/runtime.txt)
import run_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _spec(requirement: str) -> str:
    return requirement.replace(" ", "").lower().replace("_", "-")


def pyproject_requirements() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return {_spec(r) for r in reqs}


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first = text[: text.find("\n## ", text.find("## ") + 3)]
    assert "make lab" in first and "make test" in first


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_lists_every_notebook_and_exercise():
    text = (ROOT / "README.md").read_text()
    for folder in ("notebooks", "exercises"):
        for nb in sorted((ROOT / folder).glob("*.ipynb")):
            assert f"{folder}/{nb.name}" in text, f"README.md does not list {folder}/{nb.name}"


def test_solutions_and_exercises_come_in_pairs():
    sol = {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    ex = {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
    assert sol == ex


# --- the lock ----------------------------------------------------------------------------------
def _declared(extras=lock.LOCKED_EXTRAS) -> list[Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"]) + list(data["build-system"]["requires"])
    for extra in extras:
        reqs += data["project"]["optional-dependencies"][extra]
    return [Requirement(r) for r in reqs]


def _unmet(requirements: list[Requirement], pins: list[tuple[str, str, str]]) -> list[str]:
    """Each requirement that has no pin, or a pin outside its range."""
    problems = []
    for req in requirements:
        versions = [v for name, v, _ in pins if name == lock.normalise(req.name)]
        if not versions:
            problems.append(f"{req} is not in the lock")
        problems += [f"{req}: the lock pins {v}" for v in versions if not req.specifier.contains(v, prereleases=True)]
    return problems


def test_the_lock_was_made_from_this_pyproject():
    assert lock.recorded_fingerprint() == lock.fingerprint(), (
        "pyproject.toml's dependencies changed since requirements/lock.txt was made: run `make lock`")
    assert lock.recorded_fingerprint(lock.BROWSER_LOCK) == lock.fingerprint(), "requirements/browser.txt: run `make lock`"


def test_every_declared_dependency_is_pinned_within_its_range():
    assert _unmet(_declared(), lock.pins()) == []
    assert _unmet(_declared((lock.BROWSER_EXTRA,)), lock.pins() + lock.pins(lock.BROWSER_LOCK)) == []


def test_the_check_catches_a_range_the_lock_does_not_meet():
    pins = [("numpy", "1.26.4", ""), ("scipy", "1.13.0", "")]
    assert _unmet([Requirement("numpy>=2.0"), Requirement("scipy>=1.13"), Requirement("pillow>=10")], pins) == [
        "numpy>=2.0: the lock pins 1.26.4", "pillow>=10 is not in the lock"]


def test_the_fingerprint_changes_with_any_dependency():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    before = lock.fingerprint(data)
    data["project"]["optional-dependencies"]["apps"].append("pandas>=2")
    assert lock.fingerprint(data) != before


def test_every_pin_is_exact_and_hashed():
    for path in (lock.LOCK, lock.BROWSER_LOCK):
        entries = re.split(r"\n(?=[A-Za-z0-9])", path.read_text().split("\n", 4)[-1].strip())
        assert len(entries) == len(lock.pins(path)) > 0, path
        for entry in entries:
            assert re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?==", entry) and "--hash=sha256:" in entry, entry[:80]


def test_the_lock_holds_one_version_per_package_on_every_python_we_allow():
    pins = lock.pins()
    for minor in (11, 12, 13):
        env = {"python_full_version": f"3.{minor}.0", "python_version": f"3.{minor}", "sys_platform": "linux",
               "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
               "platform_python_implementation": "CPython", "platform_machine": "x86_64"}
        names = [n for n, _, marker in pins if not marker or Marker(marker).evaluate(env)]
        assert len(names) == len(set(names)), f"Python 3.{minor}: a package pinned twice"
        assert {"numpy", "jupyterlab", "setuptools", "pytest"} <= set(names)


def test_environment_yml_is_the_lock_for_conda_with_python_pinned():
    text = (ROOT / "environment.yml").read_text()
    assert text == lock.conda_environment(), "environment.yml is stale: run `make lock`"
    assert re.search(rf"^  - python={re.escape(lock.PYTHON)}$", text, re.M)
    pinned = re.findall(r'^      - "([^"=]+)==([^" ;]+)(?: ; ([^"]+))?"$', text, re.M)
    assert sorted(pinned) == sorted((n, v, m) for n, v, m in lock.pins() if n != "pip")
    assert re.search(r"^      - -e \.$", text, re.M)


def test_binder_pins_python_and_installs_the_lock():
    binder = ROOT / ".binder"
    assert (binder / "runtime.txt").read_text() == f"python-{lock.PYTHON}\n"
    assert re.search(r"^-r \.\./requirements/lock\.txt$", (binder / "requirements.txt").read_text(), re.M)
    post = (binder / "postBuild").read_text()
    assert "--no-deps" in post and os.access(binder / "postBuild", os.X_OK)


def test_lock_check_reports_a_stale_conda_file(tmp_path, monkeypatch):
    assert lock.stale() == []
    stale = tmp_path / "environment.yml"
    stale.write_text(lock.conda_environment().replace("numpy==", "numpy>="))
    monkeypatch.setattr(lock, "CONDA", stale)
    assert lock.stale() == ["environment.yml does not hold lock.txt's pins"]


def test_make_test_and_make_lab_install_from_the_lock_with_hashes():
    make = (ROOT / "Makefile").read_text()
    stamp = make[make.index("$(STAMP):"):make.index("\nlab:")]
    assert "--require-hashes --no-deps -r $(LOCK)" in stamp
    assert re.search(r"pip install[^\n]*-e \.", stamp) and "--no-deps" in stamp
    assert not re.search(r"pip install[^\n]*\.\[", stamp), "an unpinned install of the extras"


# --- the package: version, licence ----------------------------------------------------------------
def test_version_has_one_source_and_names_the_term():
    import emlib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in data["project"] and "version" in data["project"]["dynamic"]
    assert data["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "emlib.__version__"}
    year, term = emlib.__version__.split(".")
    assert 2026 <= int(year) <= 2100 and term in ("1", "2"), emlib.__version__
    assert f"## [{emlib.__version__}]" in (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^version: \"?{re.escape(emlib.__version__)}\"?$", (ROOT / "CITATION.cff").read_text(), re.M)


def test_licence_is_an_spdx_expression_with_its_files():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT AND CC-BY-4.0"
    assert project["license-files"] == ["LICENSE", "LICENSE-CONTENT"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "Attribution 4.0 International Public License" in (ROOT / "LICENSE-CONTENT").read_text()
    assert not any("License ::" in c for c in project.get("classifiers", []))


# --- notebooks: no timestamps, the versions that made the outputs ---------------------------------
def test_no_notebook_stores_execution_timestamps():
    stamped = []
    for path in NOTEBOOKS + sorted((ROOT / "exercises").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        stamped += [f"{path.relative_to(ROOT)} cell {i}" for i, cell in enumerate(nb["cells"])
                    if set(cell.get("metadata", {})) & set(run_notebooks.TIMING_KEYS)]
    assert stamped == [], "run `python tools/run_notebooks.py --strip` on: " + ", ".join(stamped[:5])


def test_every_notebook_records_the_versions_that_made_its_outputs():
    missing = [p.relative_to(ROOT).as_posix() for p in NOTEBOOKS
               if "numpy" not in nbformat.read(p, as_version=4).metadata.get("emlib", {}).get("executed_with", {})]
    assert missing == []


def test_run_notebooks_records_versions_and_no_timestamps(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nb.cells[0].metadata["execution"] = {"iopub.execute_input": "2026-11-26T15:15:40Z"}
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    run_notebooks.run(path, timeout=120)
    done = nbformat.read(path, as_version=4)
    assert done.cells[0].outputs[0]["text"] == "42\n"
    assert "execution" not in done.cells[0].metadata
    versions = done.metadata["emlib"]["executed_with"]
    import numpy

    assert versions["numpy"] == numpy.__version__ and versions["python"] == ".".join(map(str, sys.version_info[:3]))


# --- lint -------------------------------------------------------------------------------------------
def test_ruff_finds_nothing_in_the_python_code():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    result = subprocess.run([ruff, "check", "--no-cache", "emlib", "tests", "tools", "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_pre_commit_runs_ruff_and_the_timestamp_strip():
    text = (ROOT / ".pre-commit-config.yaml").read_text()
    assert "ruff check" in text and "tools/run_notebooks.py --strip" in text


# --- make lab prints one URL, and it opens the lab ---------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_prints_exactly_one_url_and_it_opens_the_lab_without_a_login():
    port = _free_port()
    proc = subprocess.Popen(["make", "-s", "serve", f"BIN={Path(sys.executable).parent}", f"PORT={port}",
                             "LAB_FLAGS=--no-browser"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines: list[str] = []
    try:
        first = proc.stdout.readline()
        lines.append(first)
        url = re.search(r"http://\S+", first).group(0)
        assert re.search(rf"^http://127\.0\.0\.1:{port}/lab/tree/notebooks/00_course_map\.ipynb\?token=[0-9a-f]{{48}}$",
                         url), url
        deadline, page = time.monotonic() + 90, None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = (response.geturl(), response.read().decode("utf-8", "replace"))
            except OSError:
                time.sleep(1)
        assert page is not None, "JupyterLab did not answer at the printed URL"
        assert "/login" not in page[0] and "jupyter-config-data" in page[1]
        time.sleep(2)                      # whatever Jupyter logs once it serves a page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rest, _ = proc.communicate()
        lines += rest.splitlines()
    output = "\n".join(lines)
    assert len(re.findall(r"https?://", output)) == 1, output


def test_building_emlib_prints_no_warning(tmp_path):
    """The build backend's warnings (a deprecated licence table, an editable-layout notice) stay out of installs."""
    from importlib import metadata

    try:
        isolated = int(metadata.version("setuptools").split(".")[0]) < 77
    except metadata.PackageNotFoundError:
        isolated = True
    command = [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(ROOT)]
    result = subprocess.run(command + ([] if isolated else ["--no-build-isolation"]),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    backend = [line for line in (result.stdout + result.stderr).splitlines()
               if re.search(r"(Deprecat|Warning:|!!)", line) and "WARNING: Location" not in line]
    assert backend == [], "\n".join(backend)
    wheel = next(tmp_path.glob("emlib-*.whl"))
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT AND CC-BY-4.0" in meta and "License-File: LICENSE-CONTENT" in meta
