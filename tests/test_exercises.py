"""Exercises are generated from the solutions, never destroy a student's work, and fail every check when run unmodified."""

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import emlib.course.checks as checks
from emlib.course import make_exercises as mx
from emlib.course.checks._feedback import LOG_ENV, NOT_IMPLEMENTED

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
PAIRS = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))
STUB_MESSAGE = re.compile(r"^(\w+) is not implemented yet: write its body here$")


# --- the committed pairs ------------------------------------------------------------------------

def test_committed_exercises_are_what_the_solutions_generate():
    report = mx.generate(SOLUTIONS, EXERCISES, check=True, out=lambda *_: None)
    assert report.ok, "\n".join(report.problems) + "\nRun `make exercises` and commit exercises/."


@pytest.mark.parametrize("name", PAIRS)
def test_every_task_of_a_pair_has_a_registered_check_and_a_stub(name):
    solution = nbformat.read(SOLUTIONS / name, as_version=4)
    tasks = mx.tasks_of(solution)
    assert tasks, f"{name} calls no check_<task>(...)"
    unknown = [t for t in tasks if t not in checks.registry()]
    assert not unknown, f"{name} checks tasks with no check in emlib.course.checks: {unknown}"
    stubbed = [t for cell in solution.cells if cell.cell_type == "code"
               for t in mx.strip_code(cell.source)[1]]
    assert set(tasks) <= set(stubbed), f"{name}: tasks without a solution region: {set(tasks) - set(stubbed)}"


@pytest.mark.parametrize("name", PAIRS)
def test_unmodified_exercise_fails_every_check_as_not_implemented_and_nothing_else(name, tmp_path):
    """Run the exercise in a fresh kernel: each check says "not implemented yet", and the only
    errors are the stubs' NotImplementedError (figure cells that call an unwritten function)."""
    nb = nbformat.read(EXERCISES / name, as_version=4)
    log = tmp_path / "checks.jsonl"
    client = NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env={**os.environ, LOG_ENV: str(log), "MPLBACKEND": "Agg"}):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    tasks = mx.tasks_of(nbformat.read(SOLUTIONS / name, as_version=4))
    assert [e["task"] for e in entries] == tasks
    for entry in entries:
        assert not entry["passed"] and entry["kind"] == NOT_IMPLEMENTED, entry
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                assert out.ename == "NotImplementedError" and STUB_MESSAGE.match(out.evalue), \
                    f"{name}, cell {index}: {out.ename}: {out.evalue}"
            if out.output_type == "stream" and "✘" in out.text:
                assert "not implemented yet" in out.text


# --- the generator ------------------------------------------------------------------------------

SOLUTION_CELL = '''def e_step(X, mixture):
    """Docstring stays."""
    resp = None
    ### BEGIN SOLUTION
    resp = 1
    return resp
    ### END SOLUTION'''


def test_a_solution_region_becomes_a_stub_named_after_its_function():
    source, tasks = mx.strip_code(SOLUTION_CELL)
    assert tasks == ["e_step"]
    assert source.splitlines()[:3] == SOLUTION_CELL.splitlines()[:3]
    assert source.splitlines()[-1] == '    raise NotImplementedError("e_step is not implemented yet: write its body here")'
    assert "resp = 1" not in source and "BEGIN" not in source


def test_a_nested_region_belongs_to_the_innermost_enclosing_function():
    source = "def outer():\n    def inner(x):\n        ### BEGIN SOLUTION\n        return x\n        ### END SOLUTION\n"
    assert mx.strip_code(source)[1] == ["inner"]


def test_a_top_level_region_must_name_its_task():
    with pytest.raises(mx.MarkerError, match="cannot tell which task"):
        mx.strip_code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    source, tasks = mx.strip_code("### BEGIN SOLUTION my_value\nx = 1\n### END SOLUTION")
    assert tasks == ["my_value"] and source.startswith("# Your code here")


@pytest.mark.parametrize("source, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without a"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "inside another"),
])
def test_malformed_markers_are_errors(source, message):
    with pytest.raises(mx.MarkerError, match=message):
        mx.strip_code(source)


def test_a_markdown_solution_is_replaced_by_an_invitation():
    text = "Derive it.\n<!-- BEGIN SOLUTION -->\n$\\lambda = n$\n<!-- END SOLUTION -->\nDone."
    out = mx.strip_markdown(text)
    assert "lambda" not in out and mx.MD_PLACEHOLDER in out and out.startswith("Derive it.") and out.endswith("Done.")


def _solution_notebook():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell(SOLUTION_CELL),
                             new_code_cell("check_e_step(e_step)")])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="leak")]
    nb.cells[1].execution_count = 3
    nb.metadata["language_info"] = {"name": "python", "version": "3.99"}
    return nb


def test_the_exercise_has_no_outputs_and_records_its_origin():
    exercise = mx.make_exercise(_solution_notebook(), "99_demo.ipynb")
    code = [c for c in exercise.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert exercise.metadata["emlib"]["exercise"] == "99_demo"
    assert exercise.metadata["emlib"]["fingerprint"] == mx.fingerprint(exercise)
    assert "version" not in exercise.metadata["language_info"]
    assert mx.tasks_of(exercise) == ["e_step"]


def _pair(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(_solution_notebook(), solutions / "99_demo.ipynb")
    return solutions, exercises


def _quiet(*args):
    return None


def test_generation_creates_then_leaves_unchanged(tmp_path):
    solutions, exercises = _pair(tmp_path)
    assert mx.generate(solutions, exercises, out=_quiet).created == ["99_demo.ipynb"]
    assert mx.generate(solutions, exercises, out=_quiet).unchanged == ["99_demo.ipynb"]
    assert mx.generate(solutions, exercises, check=True, out=_quiet).ok


def test_an_edited_exercise_is_never_overwritten_and_is_reported(tmp_path, capsys):
    solutions, exercises = _pair(tmp_path)
    mx.generate(solutions, exercises, out=_quiet)
    target = exercises / "99_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("raise NotImplementedError", "return 42  #")
    nbformat.write(nb, target)
    edited = target.read_text()
    sol = nbformat.read(solutions / "99_demo.ipynb", as_version=4)
    sol.cells[0].source = "# A new title"
    nbformat.write(sol, solutions / "99_demo.ipynb")

    status = mx.main(["--solutions", str(solutions), "--exercises", str(exercises)])
    out = capsys.readouterr().out
    assert status == 1
    assert target.read_text() == edited
    assert "SKIPPED" in out and str(target) in out and "FORCE=1" in out


def test_force_overwrites_an_edited_exercise(tmp_path):
    solutions, exercises = _pair(tmp_path)
    mx.generate(solutions, exercises, out=_quiet)
    target = exercises / "99_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells.append(new_code_cell("my_work = 1"))
    nbformat.write(nb, target)
    report = mx.generate(solutions, exercises, force=True, out=_quiet)
    assert report.overwritten == ["99_demo.ipynb"] and "my_work" not in target.read_text()


def test_running_an_exercise_is_not_editing_it(tmp_path):
    solutions, exercises = _pair(tmp_path)
    mx.generate(solutions, exercises, out=_quiet)
    target = exercises / "99_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="✘ e_step: not implemented yet")]
    nbformat.write(nb, target)
    sol = nbformat.read(solutions / "99_demo.ipynb", as_version=4)
    sol.cells[0].source = "# A new title"
    nbformat.write(sol, solutions / "99_demo.ipynb")
    report = mx.generate(solutions, exercises, out=_quiet)
    assert report.updated == ["99_demo.ipynb"] and "A new title" in target.read_text()


def test_check_mode_reports_stale_missing_and_orphan_exercises(tmp_path):
    solutions, exercises = _pair(tmp_path)
    report = mx.generate(solutions, exercises, check=True, out=_quiet)
    assert not report.ok and "missing" in report.problems[0] and not exercises.exists()
    mx.generate(solutions, exercises, out=_quiet)
    nbformat.write(new_notebook(), exercises / "98_orphan.ipynb")
    sol = nbformat.read(solutions / "99_demo.ipynb", as_version=4)
    sol.cells[0].source = "# Changed"
    nbformat.write(sol, solutions / "99_demo.ipynb")
    problems = " ".join(mx.generate(solutions, exercises, check=True, out=_quiet).problems)
    assert "99_demo.ipynb differs" in problems and "98_orphan.ipynb has no solution" in problems
