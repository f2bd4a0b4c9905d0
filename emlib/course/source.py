"""Show the few lines of emlib that carry a lecture formula, not a whole function with its checks.

    show_formula(emlib.update_weights, "return")            # from the first line containing "return"
    show_formula(emlib.steps.moments, "r = resp", "return")  # a range of lines, inclusive

The lines are read from emlib's source each time, so what a notebook shows
is what runs (nbval holds the stored output to the source).
"""

from __future__ import annotations

import inspect
import textwrap


class Formula:
    """Lines of source, shown as a Python code block (Markdown) in Jupyter and as plain text elsewhere."""

    def __init__(self, name: str, code: str):
        self.name, self.code = name, code

    def _repr_markdown_(self) -> str:
        return f"`{self.name}`:\n```python\n{self.code}\n```"

    def __repr__(self) -> str:
        return f"{self.name}:\n{self.code}"


def formula_lines(func, first: str, last: str | None = None) -> str:
    """The source lines of ``func`` from the first containing ``first`` to the next containing ``last``.

    Parameters
    ----------
    func : a function or class of emlib
    first : str, text of the first line to show
    last : str or None, text of the last line to show (default: only the first line)

    Returns
    -------
    str, the lines dedented
    """
    lines = inspect.getsource(func).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if first in line)
    except StopIteration:
        raise ValueError(f"first={first!r} occurs in no line of {func.__qualname__}") from None
    stop = start
    if last is not None:
        try:
            stop = next(i for i in range(start, len(lines)) if last in lines[i])
        except StopIteration:
            raise ValueError(f"last={last!r} occurs in no line of {func.__qualname__} after {first!r}") from None
    return textwrap.dedent("\n".join(lines[start:stop + 1]))


def show_formula(func, first: str, last: str | None = None) -> Formula:
    """The lines of :func:`formula_lines`, to display as the last expression of a cell."""
    return Formula(f"{func.__module__}.{func.__qualname__}", formula_lines(func, first, last))
