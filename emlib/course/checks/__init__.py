"""Exercise checks: one ``check_<task>(fn)`` per task of the exercise notebooks.

In an exercise notebook, below the cell where you write ``e_step``::

    from emlib.course.checks import check_e_step
    check_e_step(e_step)

prints either ``✔ e_step: correct on ...`` or ``✘ e_step: <what is wrong>``:
not implemented yet, wrong shape (expected vs got), rows not summing to one,
a covariance that is not symmetric, values off (with the smallest input that
shows it, expected vs got), NaN from underflow, ... Checks run locally on
small cases kept in the topic modules; they never need a server or an account.

Layout
------
``_feedback.py``
    the framework: the :func:`check` decorator and registry, :class:`Case`,
    :func:`call` (runs student code safely), the ``expect_*`` comparisons,
    :func:`match_components` (Hungarian matching of components), the grading
    :class:`Spec` of every task (public and hidden cases, reference, off-limits
    names) and :class:`Replay`, through which the grader runs the same check
    body on the answers a student's kernel recorded (see :mod:`emlib.course.grading`).
``_random.py``
    random mixtures, covariances and responsibilities for the hidden cases.
one module per topic
    ``sampling`` (01), ``likelihood`` (02), ``estep`` (03), ``mstep`` (04),
    ``loop`` (05), ``kmeans`` (06), ``selection`` (07), ...

How to add a topic (a new exercise pair)
-----------------------------------------
1. Write ``emlib/course/checks/<topic>.py``: import the framework
   (``from ._feedback import Case, call, check, expect_close, ...``), keep the
   small public cases there, write one ``@check("<task>", reference=..., forbidden=...,
   cases=..., hidden=...)`` body per task (``body(fn, cases)``; ``hidden(rng)`` draws
   grading cases of the same structure, keeping the tricky kinds), and list the check
   functions in ``__all__``. Task names are
   the names of the functions the student writes and must be unique across
   all topic modules.
2. Nothing to edit here: this package imports every module in its folder whose
   name does not start with ``_`` and re-exports its ``__all__``.
3. Write ``solutions/NN_<topic>.ipynb`` with ``### BEGIN SOLUTION`` /
   ``### END SOLUTION`` inside each task's function and a check cell
   ``check_<task>(<task>)`` below it, then run ``make exercises``; the
   generator, the tests and the grader pick the pair up by its file name.
   See ``exercises/README.md``.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._feedback import CheckResult, get_check, registry

__all__ = ["CheckResult", "get_check", "registry"]


def _import_topics() -> None:
    owners: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "__all__", ()):
            if name in owners:
                raise ImportError(f"emlib.course.checks: {name!r} is exported by both {owners[name]} and "
                                  f"{info.name}; check names must be unique")
            owners[name] = info.name
            globals()[name] = getattr(module, name)
            __all__.append(name)


_import_topics()
