"""The check framework: how a check runs a student's function, judges it, and reports.

A *check* is a function ``check_<task>(fn)`` that a student calls in the cell
below a task. It runs ``fn`` on small cases kept in the topic module, compares
with emlib's reference, and prints one verdict:

    ✔ e_step: correct on 4 cases (shapes, rows sum to one, values, a point far from every mean).
    ✘ e_step: wrong shape for resp: expected (3, 2) = (n, m), got (2, 3).
        input: ...

Writing a check
---------------
Decorate a *body* with :func:`check`. The body receives the student's
function and the cases to run, calls the function through :func:`call`
(which turns a ``NotImplementedError`` into "not implemented yet" and any
other exception into a report naming the input), and raises
:class:`Failure` with a precise message at the first problem, usually
through the ``expect_*`` helpers below. It returns a short success note::

    @check("update_weights", reference=steps.update_weights, forbidden=(steps.update_weights,),
           cases=RESP_CASES, hidden=_hidden_resp)
    def check_update_weights(update_weights, cases):
        for case in cases:
            got = as_array(call(update_weights, case), "the weights", case=case)
            expect_shape(got, (m,), "the weights", meaning="(m,)", case=case)
            expect_close(got, steps.update_weights(*case.args), "the weights", case=case)
        return f"correct on {len(cases)} cases."

``cases`` are the public cases the notebook's check runs; ``hidden(rng)``
draws grading cases of the same structure, afresh for every submission, from
a seed only the grader knows (keep the tricky kinds: far points, underflow,
collapsed components). The grader runs the *same body* in its own process on
the answers the student's kernel recorded for those hidden inputs (a
:class:`Replay` stands in for the function), so a check's messages and hints
serve both the student and the grade.

The decorator registers the check under its task name (one task, one check,
across all topic modules), catches everything the student's code can throw,
and prints the verdict (and appends it as one JSON line to the file named by
``EMLIB_CHECK_LOG``, if set: a log for the student's own tools; the grader
never reads it). ``check_x.evaluate(fn)`` returns the :class:`CheckResult`
without printing (for tests). The reference implementation and the
off-limits names live in the grading :class:`Spec` (``spec(task)``), not on
the check object.

Components have no natural order: whenever a student's function *produces*
components (an M-step, an EM run, k-means, trimming), align them with the
expected ones by :func:`match_components` (the Hungarian algorithm) before
comparing.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import sys
import threading
import traceback
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

LOG_ENV = "EMLIB_CHECK_LOG"
"""Environment variable: when set, every verdict is appended to this file as a JSON line."""

PASS_MARK = "✔"
FAIL_MARK = "✘"

NOT_IMPLEMENTED = "not implemented"
WRONG = "wrong"
CHECK_ERROR = "check error"


# ----------------------------------------------------------------------------------------
# Verdicts
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one function.

    Attributes
    ----------
    task : str, the task's name (the name of the function the student writes)
    passed : bool
    message : str, what was right, or precisely what is wrong
    kind : "" when passed, else "not implemented", "wrong" or "check error"
    """

    task: str
    passed: bool
    message: str
    kind: str = ""

    def __str__(self) -> str:
        mark = PASS_MARK if self.passed else FAIL_MARK
        lines = self.message.strip("\n").split("\n")
        head = f"{mark} {self.task}: {lines[0]}"
        return "\n".join([head] + ["  " + line if line else "" for line in lines[1:]])


class Failure(Exception):
    """Raised inside a check body: the student's function is wrong; the message says how."""

    kind = WRONG


class NotImplementedYet(Failure):
    """The student's function still raises ``NotImplementedError`` (the stub)."""

    kind = NOT_IMPLEMENTED


def not_implemented_message(task: str) -> str:
    return (f"not implemented yet. Write the body of {task} in the cell above (replace the line "
            f"`raise NotImplementedError(...)` with your code), run that cell, then run this check again.")


# ----------------------------------------------------------------------------------------
# Registry and the decorator
# ----------------------------------------------------------------------------------------
_REGISTRY: dict[str, Callable] = {}
_SPECS: dict[str, "Spec"] = {}
_state = threading.local()          # .task: the task whose check is running (names the student's function)


@dataclass(frozen=True)
class Spec:
    """What the grader needs about a task; kept here, never on the check object itself.

    body : the check's body, ``body(fn, cases) -> note``
    cases : the public cases of the feedback check (a list of :class:`Case`, or a dict of lists)
    hidden : ``hidden(rng) -> cases`` of the same structure, drawn afresh for every submission
    reference : a correct implementation with the student's signature (tests and the grader use it)
    off_limits : qualified names (``emlib.steps.e_step``) of functions that ARE the answer
    """

    task: str
    body: Callable
    cases: object
    hidden: Callable | None
    reference: Callable
    off_limits: tuple[str, ...]


def registry() -> dict[str, Callable]:
    """Every registered check, by task name (a copy)."""
    return dict(_REGISTRY)


def get_check(task: str) -> Callable:
    """The check of ``task``; KeyError naming the known tasks when there is none."""
    try:
        return _REGISTRY[task]
    except KeyError:
        raise KeyError(f"no check is registered for task {task!r}; known tasks: {sorted(_REGISTRY)}") from None


def spec(task: str) -> Spec:
    """The grading spec of ``task`` (body, public and hidden cases, reference, off-limits names)."""
    get_check(task)
    return _SPECS[task]


def qualified_name(fn) -> str:
    """``module.qualname`` of a function or method, as the grader's call recorder names it."""
    fn = getattr(fn, "__func__", fn)
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', getattr(fn, '__name__', repr(fn)))}"


def check(task: str, *, reference: Callable, forbidden: tuple = (), cases=None, hidden: Callable | None = None,
          off_limits: tuple[str, ...] = ()):
    """Make a body into the check of ``task`` and register it.

    Parameters
    ----------
    task : the name of the function the student writes (``e_step``)
    reference : a correct implementation with the student's signature (kept in the grading spec,
        not on the check: a student must not find the answer hanging off ``check_e_step``)
    forbidden : emlib callables that ARE the answer; passing one of them fails, and calling one
        while the student's function runs makes the grader mark the task "needs review"
    cases : the public cases, passed to ``body(fn, cases)``; ``None`` for a body with one argument
    hidden : ``hidden(rng)`` draws grading cases of the same structure as ``cases``
    off_limits : further qualified names that are off limits (``scipy.special._logsumexp.logsumexp``)
    """

    def decorate(body: Callable) -> Callable:
        run_body = body if cases is not None else (lambda fn, _cases: body(fn))

        def evaluate(fn, graded_cases=None) -> CheckResult:
            outer = getattr(_state, "task", None)
            _state.task = task
            try:
                _guard(task, fn, forbidden)
                note = run_body(fn, cases if graded_cases is None else graded_cases)
            except Failure as failure:
                return CheckResult(task, False, str(failure), failure.kind)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - a bug in the check must not look like the student's
                where = traceback.format_exception_only(type(exc), exc)[-1].strip()
                return CheckResult(task, False, f"the check itself could not finish ({where}). "
                                   "Tell your instructor; meanwhile compare your code with the task text.",
                                   CHECK_ERROR)
            finally:
                _state.task = outer
            return CheckResult(task, True, note or "correct.")

        @functools.wraps(body)
        def run(fn) -> None:
            report(evaluate(fn), function=getattr(fn, "__name__", None))

        run.task = task
        run.evaluate = evaluate
        if task in _REGISTRY and _REGISTRY[task].__module__ != run.__module__:
            raise ValueError(f"two checks for task {task!r}: in {_REGISTRY[task].__module__} and "
                             f"{run.__module__}; task names must be unique across topic modules")
        _REGISTRY[task] = run
        names = tuple(dict.fromkeys([qualified_name(f) for f in forbidden] + list(off_limits)))
        _SPECS[task] = Spec(task, run_body, cases, hidden, reference, names)
        return run

    return decorate


def _guard(task: str, fn, forbidden) -> None:
    if fn is None:
        raise Failure(f"got None instead of a function. Pass the function itself: check_{task}({task}).")
    if not callable(fn):
        raise Failure(f"got {type(fn).__name__} instead of a function. Pass the function itself, "
                      f"without calling it: check_{task}({task}).")
    for bad in forbidden:
        if fn is bad or getattr(fn, "__func__", None) is bad:
            name = f"{getattr(bad, '__module__', 'emlib')}.{getattr(bad, '__qualname__', repr(bad))}"
            raise Failure(f"this is emlib's own {name}, which is the answer. "
                          f"The exercise is to write {task} yourself with numpy.")


def report(result: CheckResult, *, source: str = "notebook", log_path: str | None = None,
           function: str | None = None) -> None:
    """Print the verdict and append it to the log file (``EMLIB_CHECK_LOG``), if any."""
    print(str(result))
    record(result, source=source, log_path=log_path, function=function)


def record(result: CheckResult, *, source: str = "notebook", log_path: str | None = None,
           function: str | None = None) -> None:
    """Append the verdict as one JSON line: task, passed, message, kind, source, function checked."""
    path = log_path or os.environ.get(LOG_ENV)
    if not path:
        return
    entry = dict(asdict(result), source=source, function=function)
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    except OSError as exc:  # the verdict is printed anyway
        print(f"(could not record the result in {path}: {exc})", file=sys.stderr)


# ----------------------------------------------------------------------------------------
# Cases: the small inputs a check runs, and how they are shown
# ----------------------------------------------------------------------------------------
class Case:
    """One input of a check: named arguments, passed positionally in order.

    ``Case("tiny", X=..., mixture=...)`` calls ``fn(X, mixture)``. The label
    says what the case probes ("a point far from every mean") for the student;
    ``tags`` say it for the check (``case.probes("far")``), so no hint is
    chosen by reading words in a label.
    """

    def __init__(self, label: str, *, tags: tuple[str, ...] = (), **kwargs):
        self.label = label
        self.tags = frozenset(tags)
        self.kwargs = kwargs
        self.key: str | None = None     # set by the grader: names the case in the kernel's answers

    def probes(self, tag: str) -> bool:
        """Whether the case was made to probe ``tag`` ("overflow", "underflow", "far", "nothing observed")."""
        return tag in self.tags

    @property
    def args(self) -> tuple:
        return tuple(self.kwargs.values())

    def fresh_args(self) -> tuple:
        """Deep copies, so a function that writes into its inputs cannot spoil the next case."""
        return tuple(copy.deepcopy(v) for v in self.kwargs.values())

    def describe(self) -> str:
        lines = [f"input ({self.label}):"]
        for name, value in self.kwargs.items():
            lines.append(f"  {name} = {fmt(value, indent=len(name) + 5)}")
        return "\n".join(lines)


def fmt(value, indent: int = 0, max_size: int = 40) -> str:
    """A short readable rendering of a number, an array, a Mixture or a generator."""
    from ...mixture import Mixture

    pad = "\n" + " " * indent
    if isinstance(value, Mixture):
        parts = [f"Mixture with m = {value.n_components} components in d = {value.n_features}",
                 f"  weights = {fmt(value.weights, indent + 12)}"]
        if value.n_features == 1:
            parts += [f"  means = {fmt(value.means[:, 0], indent + 10)}",
                      f"  variances = {fmt(value.covariances[:, 0, 0], indent + 14)}"]
        else:
            parts += [f"  means = {fmt(value.means, indent + 10)}",
                      f"  covariances = {fmt(value.covariances, indent + 16)}"]
        return pad.join(parts)
    if isinstance(value, np.random.Generator):
        return "a numpy Generator"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (list, tuple)) and not _is_numeric_nested(value):
        return repr(value)[:200]
    arr = np.asarray(value)
    if arr.dtype == object:
        return repr(value)[:200]
    if arr.size > max_size:
        return f"an array of shape {arr.shape}"
    if arr.ndim == 3:   # a stack of matrices: one line each
        rows = [_one_line(mat) for mat in arr]
        return "[" + ("," + pad + " ").join(rows) + "]"
    text = np.array2string(arr, precision=4, suppress_small=True, separator=", ", max_line_width=88)
    return text.replace("\n", pad)


def _one_line(arr: np.ndarray) -> str:
    text = np.array2string(arr, precision=4, suppress_small=True, separator=", ", max_line_width=10_000)
    return " ".join(text.split())


def _is_numeric_nested(value) -> bool:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return False
    return arr.dtype.kind in "biuf"


# ----------------------------------------------------------------------------------------
# Running the student's code
# ----------------------------------------------------------------------------------------
def call(fn, case: Case, name: str | None = None):
    """``fn(*case.args)`` with the student's exceptions turned into verdicts.

    NotImplementedError -> :class:`NotImplementedYet`; any other exception
    -> :class:`Failure` naming the exception, the line it came from and the input.
    """
    name = name or getattr(_state, "task", None) or getattr(fn, "__name__", "your function")
    try:
        if isinstance(fn, Replay):
            return fn.result_for(case)
        return fn(*case.fresh_args())
    except NotImplementedError as exc:
        other = _STUB_MESSAGE.match(str(exc))
        if other and other.group(1) != name:
            raise NotImplementedYet(f"not implemented yet: {name} calls {other.group(1)}, which is not "
                                    f"implemented yet. Do the task {other.group(1)} first (and check it), "
                                    "then run this check again.") from None
        raise NotImplementedYet(not_implemented_message(name)) from None
    except Failure:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit from student code is a failure too
        where = exc.line if isinstance(exc, RecordedError) else _student_line(exc)
        kind = exc.type_name if isinstance(exc, RecordedError) else type(exc).__name__
        raise Failure(f"{name} raised {kind}: {exc}"
                      + (f"\n  at {where}" if where else "")
                      + f"\n{case.describe()}") from None


_STUB_MESSAGE = re.compile(r"(\w+) is not implemented yet")


class RecordedError(Exception):
    """An exception the student's function raised in the kernel, replayed by the grader (its type by name)."""

    def __init__(self, type_name: str, message: str, line: str = ""):
        super().__init__(message)
        self.type_name = type_name
        self.line = line


class Replay:
    """Stands in for a student's function in the grader: answers each case with what the kernel recorded.

    ``outputs`` maps a case's key (``case.key``) to ``("ok", value)`` or ``("raised", type_name,
    message, line)``. A case with no record means the kernel never answered it.
    """

    def __init__(self, task: str, outputs: dict):
        self.task = task
        self.__name__ = task
        self.outputs = outputs

    def __call__(self, *args):   # never called by a check: call() asks result_for
        raise RecordedError("RuntimeError", "a replayed function cannot be called directly")

    def result_for(self, case):
        record = self.outputs.get(getattr(case, "key", None))
        if record is None:
            raise RecordedError("NoAnswer", "no answer was recorded for this input (the run stopped before it)")
        if record[0] == "ok":
            return record[1]
        _, type_name, message, line = record
        if type_name == "NotImplementedError":
            raise NotImplementedError(message)
        raise RecordedError(type_name, message, line)


def type_name(value) -> str:
    """The class name of a value, or of the value the kernel recorded."""
    return getattr(value, "recorded_type", None) or type(value).__name__


def _student_line(exc: BaseException) -> str:
    """The last traceback line that is not inside this package, numpy or scipy."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = traceback.extract_tb(exc.__traceback__)
    skip = (here + os.sep, os.sep + "numpy" + os.sep, os.sep + "scipy" + os.sep)
    mine = [f for f in frames if not any(s in f.filename for s in skip)]
    if not mine:
        return ""
    f = mine[-1]
    return f"line {f.lineno}: {f.line}" if f.line else f"line {f.lineno}"


# ----------------------------------------------------------------------------------------
# Comparisons: each raises Failure with expected vs got
# ----------------------------------------------------------------------------------------
def _where(case: Case | None) -> str:
    return f"\n{case.describe()}" if case is not None else ""


def expect_tuple(got, names: tuple[str, ...], what: str, case: Case | None = None) -> tuple:
    """``got`` must be a tuple/list of len(names) values; returns it as a tuple."""
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        shown = f"a {type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        raise Failure(f"{what} must return {len(names)} values ({', '.join(names)}), got {shown}. "
                      f"End it with `return {', '.join(names)}`.{_where(case)}")
    return tuple(got)


def as_array(value, what: str, case: Case | None = None, *, integer: bool = False) -> np.ndarray:
    """``value`` as a numpy array of numbers (lists accepted), or a Failure saying what came."""
    if value is None:
        raise Failure(f"{what} is None: did you forget a `return`?{_where(case)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise Failure(f"{what} must be an array of numbers, got {type(value).__name__}{_where(case)}") from None
    if arr.dtype.kind not in "biuf":
        raise Failure(f"{what} must be an array of numbers, got {type(value).__name__} of dtype "
                      f"{arr.dtype}{_where(case)}")
    if integer:
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                raise Failure(f"{what} must hold integers (component indices), got {fmt(arr)}{_where(case)}")
            arr = arr.astype(int)
        return arr
    return arr.astype(float)


def as_number(value, what: str, case: Case | None = None) -> float:
    """``value`` as one float (a 0-d or size-1 array is accepted)."""
    if value is None:
        raise Failure(f"{what} is None: did you forget a `return`?{_where(case)}")
    arr = np.asarray(value) if not isinstance(value, (str, bytes)) else np.asarray(None)
    if arr.dtype.kind not in "biuf" or arr.size != 1:
        shape = f" of shape {arr.shape}" if arr.dtype.kind in "biuf" else ""
        raise Failure(f"{what} must be one number, got {type(value).__name__}{shape}: "
                      f"{fmt(value)}{_where(case)}")
    return float(arr.reshape(()))


def expect_shape(arr: np.ndarray, shape: tuple, what: str, *, meaning: str = "",
                 case: Case | None = None) -> None:
    if arr.shape != tuple(shape):
        extra = f" = {meaning}" if meaning else ""
        hint = ""
        if arr.shape == tuple(shape)[::-1] and len(shape) == 2:
            hint = "\n  (it looks transposed)"
        elif tuple(s for s in arr.shape if s != 1) == tuple(s for s in shape if s != 1):
            hint = ("\n  (an axis of length 1 is extra or missing: keepdims=True, or [:, None]? "
                    "np.squeeze / .reshape fixes it)")
        elif arr.size == int(np.prod(shape)):
            hint = "\n  (right number of entries, wrong arrangement: check your axes or reshape)"
        raise Failure(f"wrong shape for {what}: expected {tuple(shape)}{extra}, got {arr.shape}.{hint}"
                      f"{_where(case)}")


def expect_finite(arr: np.ndarray, what: str, *, case: Case | None = None, hint: str = "") -> None:
    bad = ~np.isfinite(arr)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        kinds = sorted({"NaN" if np.isnan(v) else "inf" for v in np.ravel(arr)[np.ravel(bad)]})
        raise Failure(f"{what} contains {' and '.join(kinds)} ({int(bad.sum())} entries, the first at "
                      f"index {idx[0] if len(idx) == 1 else idx}).{(' ' + hint) if hint else ''}{_where(case)}")


def expect_rows_sum_to_one(arr: np.ndarray, what: str, *, case: Case | None = None, atol: float = 1e-6) -> None:
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0)
    if np.any(off > atol):
        i = int(np.argmax(off))
        raise Failure(f"the rows of {what} must sum to one (each row is a distribution over the "
                      f"components), but row {i} sums to {sums[i]:.6g}.\n  row sums: {fmt(sums)}"
                      f"\n  Divide each row by its sum (in log space: subtract its log-sum-exp).{_where(case)}")


def expect_probabilities(arr: np.ndarray, what: str, *, case: Case | None = None) -> None:
    if np.any(arr < -1e-12) or np.any(arr > 1 + 1e-12):
        idx = tuple(int(i) for i in np.argwhere((arr < -1e-12) | (arr > 1 + 1e-12))[0])
        raise Failure(f"{what} must hold probabilities in [0, 1], but entry {idx} is {arr[idx]:.6g}.{_where(case)}")


def expect_symmetric(covs: np.ndarray, what: str, *, case: Case | None = None, rtol: float = 1e-8) -> None:
    """Every matrix covs[k] (shape (m, d, d)) must equal its transpose."""
    asym = np.abs(covs - np.swapaxes(covs, -1, -2))
    scale = max(float(np.abs(covs).max()), 1e-300)
    if asym.max() > rtol * scale:
        k, a, b = (int(i) for i in np.unravel_index(int(np.argmax(asym)), asym.shape))
        raise Failure(f"{what}[{k}] is not symmetric: entry [{a}, {b}] = {covs[k, a, b]:.6g} but "
                      f"[{b}, {a}] = {covs[k, b, a]:.6g}. A covariance is a sum of outer products "
                      f"(x - mu)(x - mu)^T, which is symmetric: check which axis you sum over.{_where(case)}")


def expect_close(got, expected, what: str, *, case: Case | None = None, rtol: float = 1e-6,
                 atol: float = 1e-8, hint: str = "") -> None:
    """Numbers or arrays of the same shape must agree within rtol/atol (NaN never agrees)."""
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        expect_shape(got, expected.shape, what, case=case)
    ok = np.isclose(got, expected, rtol=rtol, atol=atol) | (np.isinf(got) & (got == expected))
    if np.all(ok):
        return
    if got.ndim == 0:
        body = f"expected {fmt(expected)}, got {fmt(got)}"
    else:
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        idx_txt = idx[0] if len(idx) == 1 else idx
        body = (f"first wrong entry at index {idx_txt}: expected {fmt(expected[idx])}, got {fmt(got[idx])}"
                f"\n  expected: {fmt(expected, 12)}\n  got:      {fmt(got, 12)}")
    raise Failure(f"{what}: values are off; {body}.{(chr(10) + '  ' + hint) if hint else ''}{_where(case)}")


def expect_equal(got, expected, what: str, *, case: Case | None = None, hint: str = "") -> None:
    """Exact equality of integer arrays (labels)."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        expect_shape(got, expected.shape, what, case=case)
    if not np.array_equal(got, expected):
        idx = tuple(int(i) for i in np.argwhere(got != expected)[0])
        idx_txt = idx[0] if len(idx) == 1 else idx
        n_bad = int(np.sum(got != expected))
        raise Failure(f"{what}: {n_bad} of {got.size} entries are wrong, the first at index {idx_txt}: "
                      f"expected {fmt(expected[idx])}, got {fmt(got[idx])}.\n  expected: {fmt(expected, 12)}"
                      f"\n  got:      {fmt(got, 12)}{(chr(10) + '  ' + hint) if hint else ''}{_where(case)}")


def match_components(expected_means, got_means) -> np.ndarray:
    """Align components by the Hungarian algorithm on the distances between means.

    Parameters
    ----------
    expected_means : array of shape (m, d)
    got_means : array of shape (m, d)

    Returns
    -------
    perm : int array of shape (m,) such that ``got[perm]`` lines up with the expected
        components (``got_weights[perm]``, ``got_means[perm]``, ``got_covs[perm]``).
    """
    expected_means = np.asarray(expected_means, dtype=float)
    got_means = np.asarray(got_means, dtype=float)
    cost = np.sum((expected_means[:, None, :] - got_means[None, :, :]) ** 2, axis=-1)
    cost = np.where(np.isfinite(cost), cost, 1e300)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=int)
    perm[rows] = cols
    return perm


def expect_same_components(got: tuple, expected: tuple, names: tuple[str, ...], *, case: Case | None = None,
                           rtol: float = 1e-5, atol: float = 1e-6, hint: str = "") -> np.ndarray:
    """Compare (weights, means, covariances)-like tuples up to the order of the components.

    ``got`` and ``expected`` hold arrays whose first axis is the component;
    the second entry of each must be the means (used for matching).
    Returns the permutation applied to ``got``.
    """
    perm = match_components(expected[1], got[1])
    for g, e, name in zip(got, expected, names):
        expect_close(np.asarray(g)[perm], e, f"{name} (components matched to the expected ones, in any order)",
                     case=case, rtol=rtol, atol=atol, hint=hint)
    return perm
