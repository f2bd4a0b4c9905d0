"""emlib.course.grade and emlib.course.grading, piece by piece (no kernel; the end-to-end runs are the red team's).

The verdict comes from answers that are plain data: these tests make such answers in-process
(from the reference, a stub, a wrapper), pass them through the same files the kernel writes,
and check what the grader concludes.
"""

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

import emlib
from emlib.course import grade
from emlib.course.checks import _feedback, registry
from emlib.course.grading import harness, judge, scan, wire

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISE = ROOT / "exercises" / "03_e_step.ipynb"
TASKS = ["logsumexp_rows", "e_step"]


def kernel_answers(tmp_path, namespace, tasks, seed=1):
    """Draw hidden cases, answer them in-process with ``namespace`` as the kernel would, read them back."""
    payload, arrays, structures = judge.draw_cases(tasks, seed)
    wire.write(str(tmp_path / "inputs"), payload, arrays)
    for task in tasks:
        harness.run_task(task, namespace, str(tmp_path / "inputs"), str(tmp_path / "answers"))
    return structures, {t: judge.read_answers(str(tmp_path / "answers"), t) for t in tasks}


# --- hidden cases ---------------------------------------------------------------------------------

@pytest.mark.parametrize("task", sorted(registry()))
def test_hidden_cases_change_with_the_seed_and_differ_from_the_public_ones(task):
    spec = _feedback.spec(task)
    a, arrays_a, _ = judge.draw_cases([task], 1)
    b, arrays_b, _ = judge.draw_cases([task], 2)
    same = json.dumps(a) == json.dumps(b) and all(np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_a)
    assert not same
    public = judge._flatten(spec.cases)
    hidden = judge._flatten(spec.hidden(np.random.default_rng(1)))
    assert [c.label for c in public] and len(hidden) >= 1
    enc_public, enc_hidden = wire.Encoder(), wire.Encoder()
    pub = [json.dumps([enc_public.encode(v) for v in c.kwargs.values()]) for c in public]
    hid = [json.dumps([enc_hidden.encode(v) for v in c.kwargs.values()]) for c in hidden]
    assert pub != hid or any(not np.array_equal(enc_public.arrays[k], enc_hidden.arrays.get(k, np.array([])))
                             for k in enc_public.arrays)


@pytest.mark.parametrize("task", sorted(registry()))
def test_the_reference_passes_every_hidden_draw(task):
    spec = _feedback.spec(task)
    for seed in range(3):
        result = registry()[task].evaluate(spec.reference, spec.hidden(np.random.default_rng(seed)))
        assert result.passed, result.message


def test_the_tricky_cases_are_kept_in_the_hidden_set():
    labels = {t: [c.label for c in judge._flatten(_feedback.spec(t).hidden(np.random.default_rng(0)))]
              for t in ("e_step", "logsumexp_rows", "update_weights", "e_step_row", "soft_assign")}
    assert any("far from every mean" in x for x in labels["e_step"])
    assert any("underflows" in x for x in labels["logsumexp_rows"])
    assert any("collapsed" in x for x in labels["update_weights"])
    assert any("far from every mean" in x for x in labels["e_step_row"])
    assert any("small sigma" in x for x in labels["soft_assign"])


def test_no_reference_hangs_off_a_check():
    for chk in registry().values():
        assert not hasattr(chk, "reference")


# --- the verdict, from plain data --------------------------------------------------------------------

def test_answers_from_the_reference_pass_through_the_files(tmp_path):
    namespace = {t: _feedback.spec(t).reference for t in TASKS}
    structures, answers = kernel_answers(tmp_path, namespace, TASKS)
    for task in TASKS:
        assert judge.verdict(task, structures[task], answers[task]).passed


def test_answers_from_a_stub_say_not_implemented(tmp_path):
    def stub(*args):
        raise NotImplementedError("e_step is not implemented yet: write its body here")
    structures, answers = kernel_answers(tmp_path, {"e_step": stub}, ["e_step"])
    result = judge.verdict("e_step", structures["e_step"], answers["e_step"])
    assert not result.passed and result.kind == _feedback.NOT_IMPLEMENTED


def test_every_task_round_trips_its_reference_answers(tmp_path):
    tasks = sorted(registry())
    namespace = {t: _feedback.spec(t).reference for t in tasks}
    structures, answers = kernel_answers(tmp_path, namespace, tasks, seed=7)
    for task in tasks:
        result = judge.verdict(task, structures[task], answers[task])
        assert result.passed, (task, result.message)


def test_any_exception_in_one_task_is_recorded_for_that_task_only(tmp_path):
    def logsumexp_rows(a):
        raise KeyboardInterrupt

    def e_step(X, mixture):
        raise SystemExit(3)
    structures, answers = kernel_answers(tmp_path, {"logsumexp_rows": logsumexp_rows, "e_step": e_step}, TASKS)
    assert "KeyboardInterrupt" in judge.verdict("logsumexp_rows", structures["logsumexp_rows"],
                                                answers["logsumexp_rows"]).message
    assert "SystemExit" in judge.verdict("e_step", structures["e_step"], answers["e_step"]).message


def test_calls_into_emlib_while_the_function_runs_are_evidence(tmp_path):
    def e_step(X, mixture):
        return emlib.e_step(X, mixture)
    structures, answers = kernel_answers(tmp_path, {"e_step": e_step}, ["e_step"])
    assert judge.verdict("e_step", structures["e_step"], answers["e_step"]).passed
    evidence = judge.runtime_evidence("e_step", answers["e_step"])
    assert any("called emlib.steps.e_step" in e for e in evidence)


def test_allowed_emlib_calls_are_not_evidence(tmp_path):
    def e_step(X, mixture):
        a = mixture.weighted_logpdf(X)
        top = a.max(axis=1, keepdims=True)
        log_px = top[:, 0] + np.log(np.exp(a - top).sum(axis=1))
        return np.exp(a - log_px[:, None]), float(log_px.sum())
    _, answers = kernel_answers(tmp_path, {"e_step": e_step}, ["e_step"])
    assert judge.runtime_evidence("e_step", answers["e_step"]) == []


def test_removing_the_recorder_is_evidence(tmp_path):
    import sys

    def logsumexp_rows(a):
        sys.setprofile(None)
        a_max = a.max(axis=1)
        return a_max + np.log(np.exp(a - a_max[:, None]).sum(axis=1))
    _, answers = kernel_answers(tmp_path, {"logsumexp_rows": logsumexp_rows}, ["logsumexp_rows"])
    assert any("recorder was removed" in e for e in judge.runtime_evidence("logsumexp_rows", answers["logsumexp_rows"]))


def test_emlibs_own_function_passed_as_the_answer_is_evidence(tmp_path):
    _, answers = kernel_answers(tmp_path, {"e_step": emlib.e_step}, ["e_step"])
    assert any("emlib.steps.e_step itself" in e for e in judge.runtime_evidence("e_step", answers["e_step"]))


# --- the wire: data only ------------------------------------------------------------------------------

def test_the_wire_refuses_pickled_objects(tmp_path):
    np.save(tmp_path / "x.npy", np.array([object()], dtype=object), allow_pickle=True)
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(wire.WireError):
        wire.read_arrays(tmp_path / "bad.npz")


def test_the_wire_does_not_follow_links_or_read_huge_files(tmp_path):
    (tmp_path / "real.json").write_text("{}")
    os.symlink(tmp_path / "real.json", tmp_path / "link.json")
    with pytest.raises(wire.WireError, match="cannot open"):
        wire.read_json(tmp_path / "link.json")
    (tmp_path / "big.json").write_text("[" + "1," * 100 + "1]")
    with pytest.raises(wire.WireError, match="larger"):
        wire.read_json(tmp_path / "big.json", limit=50)


def test_a_malformed_answers_file_is_a_reason_not_a_crash(tmp_path):
    (tmp_path / "answers-e_step.json").write_text("[" * 100_000)
    np.savez(tmp_path / "answers-e_step.npz")
    answers = judge.read_answers(str(tmp_path), "e_step")
    assert answers.problem


def test_values_keep_their_types_through_the_wire():
    enc = wire.Encoder()
    value = (np.float64(2.5), [1, 2, 3], 4, True, None, "s", np.arange(3), emlib.Mixture.univariate([1.0], [0.0], [1.0]))
    node = enc.encode(value)
    back = wire.decode(node, enc.arrays)
    assert back[0] == 2.5 and back[1] == [1, 2, 3] and isinstance(back[1][0], int) and back[2] == 4
    assert back[3] is True and back[4] is None and back[5] == "s" and np.array_equal(back[6], np.arange(3))
    assert back[7].recorded_type == "Mixture" and np.array_equal(back[7].weights, [1.0])


# --- the static scan -----------------------------------------------------------------------------------

def _scan(exercise, cells):
    tasks = grade.expected_tasks(exercise, SOLUTIONS)
    return scan.scan(cells, grade.template_cells(exercise, SOLUTIONS), {t: _feedback.spec(t).off_limits for t in tasks})


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_honest_solutions_and_untouched_exercises_raise_no_finding(path):
    nb = nbformat.read(path, as_version=4)
    assert _scan(path.stem, [c.source if c.cell_type == "code" else None for c in nb.cells]) == []


def test_the_scan_finds_off_limits_calls_in_the_task_and_reaching_outside():
    findings = _scan("03_e_step", [
        "from scipy.special import logsumexp\ndef logsumexp_rows(a):\n    return logsumexp(a, axis=1)",
        "def helper(X, m):\n    return m.posterior(X)\ndef e_step(X, mixture):\n    return helper(X, mixture), 0.0",
        "import subprocess\nexec(open('x').read())",
        "%run ../solutions/03_e_step.ipynb",
    ])
    text = "\n".join(f"{f.task}: {f}" for f in findings)
    assert "logsumexp_rows: cell 1" in text and "imports logsumexp from scipy.special" in text
    assert "e_step: cell 2" in text and "posterior" in text
    assert "None: cell 3" in text and "imports subprocess" in text and "calls exec()" in text
    assert "IPython command `%run" in text


def test_an_allowed_call_in_another_task_is_not_a_finding():
    findings = _scan("05_em_loop", ["from sklearn.mixture import GaussianMixture\n"
                                    "def fit_sklearn(X, init, tol):\n    return GaussianMixture(2).fit(X)"])
    assert findings == []


# --- files in, grades out --------------------------------------------------------------------------------

def test_folders_are_searched_recursively_in_any_case_and_skips_are_listed(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x_03_e_step.IPYNB").write_text("{}")
    (tmp_path / "y_03_e_step.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "y_03_e_step-checkpoint.ipynb").write_text("{}")
    (tmp_path / "readme.md").write_text("")
    (tmp_path / "z_03_e_step.ipynb").symlink_to("/etc/passwd")
    found, skipped = grade.discover([str(tmp_path), str(tmp_path / "y_03_e_step.ipynb"), str(tmp_path / "nope.ipynb")])
    shown = [d for _, d in found]
    assert set(shown[:2]) == {f"{tmp_path.name}/a/b/x_03_e_step.IPYNB", f"{tmp_path.name}/y_03_e_step.ipynb"}
    assert len(shown) == len(set(shown)) == 3
    reasons = {Path(p).name: why for p, why in skipped}
    assert reasons[".ipynb_checkpoints"] == "a hidden folder" and reasons["readme.md"].startswith("not a notebook")
    assert "symbolic link" in reasons["z_03_e_step.ipynb"] and reasons["nope.ipynb"] == "file not found"


def test_the_exercise_is_known_by_its_metadata_then_by_its_file_name(tmp_path):
    nb = nbformat.read(EXERCISE, as_version=4)
    assert grade.identify(tmp_path / "whatever.ipynb", nb, SOLUTIONS) == "03_e_step"
    assert grade.identify(tmp_path / "ann_03_e_step (1).ipynb", None, SOLUTIONS) == "03_e_step"
    assert grade.identify(tmp_path / "ann-03.ipynb", None, SOLUTIONS) == "03_e_step"
    with pytest.raises(grade.GradeError, match="cannot tell which exercise"):
        grade.identify(tmp_path / "homework.ipynb", None, SOLUTIONS)


def test_a_file_name_that_disagrees_with_the_metadata_is_a_warning(tmp_path):
    notes = []
    nb = nbformat.read(EXERCISE, as_version=4)
    assert grade.identify(tmp_path / "ann_04_m_step.ipynb", nb, SOLUTIONS, notes) == "03_e_step"
    assert "file name says 04_m_step" in notes[0]


def test_the_expected_tasks_come_from_the_solution():
    assert grade.expected_tasks("03_e_step", SOLUTIONS) == TASKS


def test_an_existing_grades_file_is_kept_and_a_new_one_written(tmp_path):
    g = grade.Grade("s/x_03_e_step.ipynb", "03_e_step", [grade.TaskScore("e_step", 1, "passed")])
    out = tmp_path / "grades.csv"
    out.write_text("old\n")
    assert grade.write_csv([g], out) == tmp_path / "grades-2.csv"
    assert grade.write_csv([g], out) == tmp_path / "grades-3.csv"
    assert out.read_text() == "old\n"
    assert grade.write_csv([g], out, force=True) == out and "TOTAL" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades-2.csv", "grades-3.csv", "grades.csv"]


def test_the_table_shows_a_score_per_task_and_the_reasons():
    g = grade.Grade("sub/x_03_e_step.ipynb", "03_e_step",
                    [grade.TaskScore("logsumexp_rows", 1, "passed"), grade.TaskScore("e_step", 0, "wrong shape"),
                     grade.TaskScore("e_step_row", 0, "needs review: called emlib", grade.REVIEW)])
    table = grade.format_table([g], [("notes.txt", "not a notebook (.ipynb)")])
    assert "logsumexp_rows  e_step  e_step_row  score" in table and "1/3" in table
    assert "e_step: wrong shape" in table and "R" in table.split("\n")[2] and "notes.txt: not a notebook" in table
