"""emlib.course.grade: full marks for a solution, zero for a stub, and a score with reasons for a hostile submission.

End to end on exercise 03 only (each run starts a kernel); the batch runs once per module.
"""

import csv
import hashlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from emlib.course import grade

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
SOLUTION = SOLUTIONS / "03_e_step.ipynb"
EXERCISE = ROOT / "exercises" / "03_e_step.ipynb"
TASKS = ["logsumexp_rows", "e_step"]


def _cells(nb, predicate):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and predicate(c.source)]


def _hostile(path):
    """Correct functions, but: a deleted check cell, megabytes of output, sys.exit, then an endless loop."""
    nb = nbformat.read(SOLUTION, as_version=4)
    setup = _cells(nb, lambda s: "use_course_style()" in s)[0]
    lse = _cells(nb, lambda s: s.startswith("def logsumexp_rows"))[0]
    est = _cells(nb, lambda s: s.startswith("def e_step"))[0]
    nb.cells = [nb.cells[setup], nb.cells[lse], nb.cells[est], new_code_cell("check_e_step(e_step)"),
                new_code_cell("print('garbage \\x00\\x1b[31m' * 400_000)"),
                new_code_cell("import sys\nsys.exit(3)"),
                new_code_cell("while True:\n    pass")]
    nbformat.write(nb, path)


def _kernel_killer(path):
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.cells.insert(_cells(nb, lambda s: s.startswith("def e_step"))[0], new_code_cell("import os\nos._exit(1)"))
    nbformat.write(nb, path)


def _tamperer(path):
    """The stub exercise, with logsumexp_rows written and its check cell deleted, and
    the e_step check cell edited to pass emlib's answer instead of the stub."""
    nb = nbformat.read(EXERCISE, as_version=4)
    solution = nbformat.read(SOLUTION, as_version=4)
    lse = _cells(nb, lambda s: s.startswith("def logsumexp_rows"))[0]
    nb.cells[lse] = solution.cells[_cells(solution, lambda s: s.startswith("def logsumexp_rows"))[0]]
    nb.cells = [c for c in nb.cells if c.source.strip() != "check_logsumexp_rows(logsumexp_rows)"]
    check = _cells(nb, lambda s: s.strip() == "check_e_step(e_step)")[0]
    nb.cells[check].source = "import emlib\ncheck_e_step(lambda X, mixture: emlib.e_step(X, mixture))"
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade six submissions in two batches (one with a short time limit for the endless loop)."""
    folder = tmp_path_factory.mktemp("submissions")
    paths = {
        "solution": folder / "ann_03_e_step.ipynb",
        "stub": folder / "ben_03_e_step.ipynb",
        "killer": folder / "cat_03_e_step.ipynb",
        "tamperer": folder / "dan_03_e_step.ipynb",
        "garbage": folder / "eve_03_e_step.ipynb",
        "hostile": folder / "fay_03_e_step.ipynb",
    }
    paths["solution"].write_bytes(SOLUTION.read_bytes())
    paths["stub"].write_bytes(EXERCISE.read_bytes())
    _kernel_killer(paths["killer"])
    _tamperer(paths["tamperer"])
    paths["garbage"].write_bytes(b"\x00\x01 not a notebook {")
    _hostile(paths["hostile"])
    digests = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}

    csv_a, csv_b = folder / "a" / "grades.csv", folder / "b.csv"
    normal = [str(paths[k]) for k in ("solution", "stub", "killer", "tamperer", "garbage")]
    status_a = grade.main(normal + ["--out", str(csv_a), "--solutions", str(SOLUTIONS), "--timeout", "120"])
    status_b = grade.main([str(paths["hostile"]), "--out", str(csv_b), "--solutions", str(SOLUTIONS),
                           "--timeout", "20"])
    rows = list(csv.DictReader(open(csv_a))) + list(csv.DictReader(open(csv_b)))
    by = {(Path(r["submission"]).name, r["task"]): r for r in rows}
    name = {k: p.name for k, p in paths.items()}
    return dict(paths=paths, digests=digests, status=(status_a, status_b), by=by, name=name)


def points(batch, who, task):
    return int(batch["by"][(batch["name"][who], task)]["points"])


def reason(batch, who, task):
    return batch["by"][(batch["name"][who], task)]["reason"]


def test_a_solution_gets_full_marks(batch):
    assert [points(batch, "solution", t) for t in TASKS] == [1, 1]
    assert batch["by"][(batch["name"]["solution"], "TOTAL")]["points"] == "2"


def test_an_unmodified_exercise_gets_zero_because_nothing_is_implemented(batch):
    assert [points(batch, "stub", t) for t in TASKS] == [0, 0]
    assert all(reason(batch, "stub", t) == "not implemented yet" for t in TASKS)


def test_an_endless_loop_times_out_and_earlier_checks_still_count(batch):
    assert points(batch, "hostile", "e_step") == 1                  # its own check ran before the loop
    assert points(batch, "hostile", "logsumexp_rows") == 0          # its check cell was deleted
    assert "did not finish within 20 s" in reason(batch, "hostile", "logsumexp_rows")
    notes = batch["by"][(batch["name"]["hostile"], "TOTAL")]["reason"]
    assert "SystemExit" in notes and "MB of output" in notes and "while True" in notes


def test_a_dead_kernel_scores_what_ran_before_it(batch):
    assert points(batch, "killer", "logsumexp_rows") == 1
    assert points(batch, "killer", "e_step") == 0
    assert "the kernel died" in reason(batch, "killer", "e_step")


def test_the_final_definitions_are_rechecked_whatever_the_check_cells_say(batch):
    assert points(batch, "tamperer", "logsumexp_rows") == 1        # check cell deleted, function right
    assert "check cell was deleted" in reason(batch, "tamperer", "logsumexp_rows")
    assert points(batch, "tamperer", "e_step") == 0                # edited check cell does not count
    assert reason(batch, "tamperer", "e_step") == "not implemented yet"


def test_a_file_that_is_not_a_notebook_scores_zero_with_a_reason(batch):
    assert [points(batch, "garbage", t) for t in TASKS] == [0, 0]
    assert "not a readable notebook" in reason(batch, "garbage", "e_step")


def test_grading_never_alters_a_submission_and_finishes_the_batch(batch):
    assert batch["status"] == (0, 0)
    for key, path in batch["paths"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == batch["digests"][key], key


def test_the_table_shows_a_score_per_task_and_the_reasons():
    g = grade.Grade("sub/x_03_e_step.ipynb", "03_e_step",
                    [grade.TaskScore("logsumexp_rows", 1, "passed"), grade.TaskScore("e_step", 0, "wrong shape")])
    table = grade.format_table([g])
    assert "logsumexp_rows  e_step  score" in table and "1/2" in table and "e_step: wrong shape" in table


def test_the_exercise_is_known_by_its_metadata_then_by_its_file_name(tmp_path):
    nb = nbformat.read(EXERCISE, as_version=4)
    assert grade.identify(tmp_path / "whatever.ipynb", nb, SOLUTIONS) == "03_e_step"
    assert grade.identify(tmp_path / "ann_03_e_step (1).ipynb", None, SOLUTIONS) == "03_e_step"
    assert grade.identify(tmp_path / "ann-03.ipynb", None, SOLUTIONS) == "03_e_step"
    with pytest.raises(grade.GradeError, match="cannot tell which exercise"):
        grade.identify(tmp_path / "homework.ipynb", None, SOLUTIONS)


def test_the_expected_tasks_come_from_the_solution():
    assert grade.expected_tasks("03_e_step", SOLUTIONS) == TASKS
