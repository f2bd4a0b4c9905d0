"""The verdict, computed in the grader's process from plain data.

:func:`draw_cases` draws every task's hidden cases from the submission's own
seed (never written where the kernel can read it) and encodes their inputs.
After the run, :func:`verdict` decodes the answers the kernel wrote and runs
the task's check body on them, with the student's function replaced by a
:class:`~emlib.course.checks._feedback.Replay` of those answers: the same
comparisons, hints and messages as the feedback check, on inputs the student
never saw, against emlib's reference, here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..checks import _feedback, registry
from . import wire


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [c for v in structure.values() for c in _flatten(v)]
    if isinstance(structure, (list, tuple)):
        return [c for v in structure for c in _flatten(v)]
    return [structure]


def draw_cases(tasks: list[str], seed: int):
    """Hidden cases for every task: ``(payload, arrays, structures)``.

    ``payload["tasks"][task]`` lists ``{"key", "args"}`` (encoded inputs), ``arrays`` holds their
    arrays, ``structures[task]`` the cases themselves (with their keys), for :func:`verdict`.
    """
    enc = wire.Encoder()
    payload: dict = {"tasks": {}}
    structures = {}
    root = np.random.SeedSequence(seed)
    for task, child in zip(tasks, root.spawn(len(tasks))):
        spec = _feedback.spec(task)
        structure = spec.hidden(np.random.default_rng(child)) if spec.hidden else spec.cases
        cases = _flatten(structure)
        entries = []
        for i, case in enumerate(cases):
            case.key = f"{task}:{i}"
            entries.append({"key": case.key, "args": [enc.encode(v) for v in case.kwargs.values()]})
        payload["tasks"][task] = entries
        structures[task] = structure
    return payload, enc.arrays, structures


def _grader_object(cls: str, attrs: dict):
    """Objects the kernel returned, rebuilt for the check bodies (values only; never the student's class)."""
    if cls == "emlib.mixture.Mixture" and {"weights", "means", "covariances"} <= set(attrs):
        from ...mixture import Mixture

        try:
            return Mixture(attrs["weights"], attrs["means"], attrs["covariances"])
        except (ValueError, TypeError):
            pass
    if cls.startswith("sklearn.mixture.") and cls.endswith("GaussianMixture"):
        try:
            from sklearn.mixture import GaussianMixture
        except ImportError:  # pragma: no cover
            return wire.RecordedObject(cls, attrs)
        model = GaussianMixture()
        for name, value in attrs.items():
            if name in ("means_", "weights_", "covariances_", "precisions_", "converged_", "n_iter_"):
                setattr(model, name, value)
            elif name == "covariance_type" and isinstance(value, str):
                model.covariance_type = value
        return model
    return wire.RecordedObject(cls, attrs)


@dataclass
class Answers:
    """What the kernel recorded for one task (or why there is nothing)."""

    outputs: dict
    calls: dict
    notes: list
    problem: str = ""


def read_answers(outbox: str, task: str) -> Answers:
    """The answers of ``task`` from the outbox, decoded; a missing or malformed file is a problem, not a crash."""
    stem = os.path.join(outbox, f"answers-{task}")
    try:
        record = wire.read_json(stem + ".json")
        arrays = wire.read_arrays(stem + ".npz")
        if not isinstance(record, dict) or not isinstance(record.get("answers"), dict):
            raise wire.WireError("not an answers file")
        outputs = {}
        for key, entry in list(record["answers"].items())[:1000]:
            if not isinstance(entry, dict):
                continue
            if "ok" in entry:
                outputs[str(key)] = ("ok", wire.decode(entry["ok"], arrays, _grader_object))
            else:
                outputs[str(key)] = ("raised", str(entry.get("raised", "Exception"))[:100],
                                     str(entry.get("message", ""))[:500], str(entry.get("line", ""))[:300])
        calls = {str(k): int(v) for k, v in dict(record.get("calls", {})).items()} if isinstance(
            record.get("calls", {}), dict) else {}
        notes = [str(n)[:200] for n in record.get("notes", [])][:20] if isinstance(record.get("notes"), list) else []
        return Answers(outputs, calls, notes)
    except (wire.WireError, ValueError, TypeError, KeyError, RecursionError) as exc:
        return Answers({}, {}, [], problem=str(exc)[:200] or type(exc).__name__)


def verdict(task: str, structure, answers: Answers) -> _feedback.CheckResult:
    """Run the task's check body on the recorded answers (in this process; nothing of the student's runs)."""
    return registry()[task].evaluate(_feedback.Replay(task, answers.outputs), structure)


def runtime_evidence(task: str, answers: Answers) -> list[str]:
    """Why a task needs review, from what the kernel recorded while the student's function ran."""
    off = set(_feedback.spec(task).off_limits)
    found = []
    for name, count in sorted(answers.calls.items()):
        if name in off:
            found.append(f"called {name} ({count}x) while {task} ran; it is off limits for this task")
        elif name.startswith(("emlib.course.checks", "emlib.course.grading", "emlib.course.grade")):
            found.append(f"called {name} ({count}x) while {task} ran (the checks' or the grader's code)")
    for note in answers.notes:
        if note.startswith("is "):
            found.append(f"{task} {note} (emlib's or a library's function, not the student's)")
        elif note == "profile hook removed":
            found.append(f"the grader's call recorder was removed or replaced while {task} ran")
    return found
