"""The repository keeps its promises: one dependency list, a README that tells the truth."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def conda_requirements() -> set[str]:
    reqs = set()
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        item = re.match(r"^  - (\S+)\s*$", line)
        if in_deps and item and not item.group(1).endswith(":") and _name(item.group(1)) not in ("python", "pip"):
            reqs.add(_spec(item.group(1)))
    return reqs


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    assert conda_requirements() == pyproject_requirements()


def test_environment_yml_installs_emlib_itself():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- -e \.\s*$", text, re.M)


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
