"""Generate the exercise notebooks from the solution notebooks.

``solutions/NN_topic.ipynb`` is the single source; ``exercises/NN_topic.ipynb``
is made from it by this script (``make exercises``) and never edited by hand.

Markers
-------
In a code cell, the lines between ::

        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

are replaced, at the indentation of the BEGIN line, by a stub that raises
``NotImplementedError("<task> is not implemented yet: ...")``. The task is the
function whose body holds the markers (the closest ``def name(`` above them,
less indented); at top level write its name after the marker:
``### BEGIN SOLUTION my_task``.

In a markdown cell, the text between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->`` (a derivation, say) is replaced by an invitation
to write the answer there.

Every output and execution count is cleared, cell metadata other than tags
and the notebook metadata of the run (Python version, widget state) are
dropped, so re-running a solution does not change its exercise. The
exercise's metadata records where it came from (``metadata.emlib.exercise``),
which the grader reads.

Never destroying a student's work
---------------------------------
Each exercise carries, in ``metadata.emlib.fingerprint``, a hash of its cells
as generated (the type and source of every cell; outputs do not count, so
running a notebook is not editing it). An exercise whose cells no longer match
its own fingerprint, nor the new version, was edited by someone: it is left
alone and reported, unless ``--force``. (Keeping the hash inside each file,
rather than in a shared manifest, lets every exercise pair live on its own.)

Usage
-----
    python -m emlib.course.make_exercises            # create / update exercises/
    python -m emlib.course.make_exercises --force    # also overwrite edited exercises
    python -m emlib.course.make_exercises --check    # exit 1 if exercises/ is not what would be generated
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
STUB_COMMENT = "# Your code here: replace the next line."
MD_PLACEHOLDER = "*Write your answer here (double-click this cell to edit it).*"
CHECK_CALL = re.compile(r"^\s*check_(\w+)\s*\(", re.MULTILINE)
_DEF = re.compile(r"^(\s*)def\s+(\w+)\s*\(")


class MarkerError(ValueError):
    """A solution notebook's markers are malformed (unclosed, nested, or naming no task)."""


def stub_line(task: str) -> str:
    """The statement that replaces a solution region."""
    return f'raise NotImplementedError("{task} is not implemented yet: write its body here")'


# ------------------------------------------------------------------------------------------------
# Cell transformations
# ------------------------------------------------------------------------------------------------
def strip_code(source: str, where: str = "a cell") -> tuple[str, list[str]]:
    """Replace every solution region of a code cell by a stub.

    Returns
    -------
    (new source, the task names of the regions, in order)
    """
    lines = source.split("\n")
    out: list[str] = []
    tasks: list[str] = []
    inside = False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise MarkerError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            task = stripped[len(BEGIN):].strip() or _enclosing_function(out, len(indent))
            if not task or not task.isidentifier():
                raise MarkerError(f"{where}, line {number}: cannot tell which task this region belongs to; "
                                  f"put it inside the task's function, or name it: `{BEGIN} task_name`")
            tasks.append(task)
            out.append(indent + STUB_COMMENT)
            out.append(indent + stub_line(task))
        elif stripped.startswith(END):
            if not inside:
                raise MarkerError(f"{where}, line {number}: {END} without a {BEGIN} above it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out), tasks


def _enclosing_function(previous: list[str], indent: int) -> str | None:
    for line in reversed(previous):
        match = _DEF.match(line)
        if match and len(match.group(1)) < indent:
            return match.group(2)
    return None


def strip_markdown(source: str, where: str = "a cell") -> str:
    """Replace every ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` span by a placeholder."""
    out, rest = [], source
    while MD_BEGIN in rest:
        head, _, tail = rest.partition(MD_BEGIN)
        if MD_END not in tail:
            raise MarkerError(f"{where}: {MD_BEGIN} is never closed by {MD_END}")
        body, _, rest = tail.partition(MD_END)
        if MD_BEGIN in body:
            raise MarkerError(f"{where}: {MD_BEGIN} inside another solution region")
        out += [head, MD_PLACEHOLDER]
    if MD_END in rest:
        raise MarkerError(f"{where}: {MD_END} without a {MD_BEGIN} before it")
    out.append(rest)
    return "".join(out)


def tasks_of(nb) -> list[str]:
    """The tasks a notebook checks: the ``check_<task>(`` calls of its code cells, in order, once each."""
    seen: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for task in CHECK_CALL.findall(cell.source):
                if task not in seen:
                    seen.append(task)
    return seen


def make_exercise(solution, name: str):
    """The exercise notebook made from a solution notebook (a new NotebookNode).

    Parameters
    ----------
    solution : NotebookNode, the solution notebook (not modified)
    name : its file name, ``NN_topic.ipynb``
    """
    nb = nbformat.from_dict(json.loads(json.dumps(solution)))
    stubbed: list[str] = []
    for index, cell in enumerate(nb.cells):
        where = f"solutions/{name}, cell {index}"
        if cell.cell_type == "code":
            cell.source, tasks = strip_code(cell.source, where)
            stubbed += tasks
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown(cell.source, where)
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": list(tags)} if tags else {})
    # Only what a student needs: running the solutions again (another Python,
    # widget state, timings) must not change the exercises.
    nb.metadata = nbformat.NotebookNode({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nb.metadata["emlib"] = {
        "exercise": Path(name).stem,
        "generated_from": f"solutions/{name}",
        "note": "Generated by `make exercises` from the solution notebook; edit the solution, not this file.",
        "fingerprint": fingerprint(nb),
    }
    return nb


def render(nb) -> str:
    """The exact text written to disk."""
    return nbformat.writes(nb) + "\n"


def fingerprint(nb) -> str:
    """sha256 of the cells' types and sources: what a student edits (outputs do not count)."""
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------------
@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # --check: what differs

    @property
    def ok(self) -> bool:
        return not self.skipped and not self.problems


def default_root() -> Path:
    """The course folder: the current directory or the nearest one above it that holds solutions/.

    Found from where the command runs, never from where emlib is installed, so
    that an installed (non-editable) emlib works as well as the checkout.
    """
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "solutions").is_dir():
            return folder
    raise FileNotFoundError(f"no solutions/ folder in {cwd} or above it; run this from the course folder "
                            "(the one with solutions/ and exercises/) or pass --solutions and --exercises")


def solution_files(solutions_dir: Path) -> list[Path]:
    return sorted(p for p in Path(solutions_dir).glob("*.ipynb") if not p.name.startswith("."))


def is_untouched(path: Path, new_fingerprint: str) -> bool:
    """True if the exercise at ``path`` still has the cells it was generated with (or the new ones)."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - unreadable means "someone changed it": leave it alone
        return False
    now = fingerprint(nb)
    recorded = nb.metadata.get("emlib", {}).get("fingerprint")
    return now in (recorded, new_fingerprint)


def generate(solutions_dir: Path, exercises_dir: Path, *, force: bool = False, check: bool = False,
             out=print) -> Report:
    """Bring ``exercises_dir`` up to date with ``solutions_dir`` (or, with ``check``, only compare)."""
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    report = Report()
    sources = solution_files(solutions_dir)
    if not sources:
        report.problems.append(f"no solution notebooks in {solutions_dir}")
    if not check:
        exercises_dir.mkdir(parents=True, exist_ok=True)
    for src in sources:
        name = src.name
        target = exercises_dir / name
        exercise = make_exercise(nbformat.read(str(src), as_version=4), name)
        text = render(exercise)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if check:
            if current is None:
                report.problems.append(f"{target} is missing")
            elif current != text:
                report.problems.append(f"{target} differs from what {src} generates")
            else:
                report.unchanged.append(name)
            continue
        if current == text:
            report.unchanged.append(name)
        elif current is None:
            target.write_text(text, encoding="utf-8")
            report.created.append(name)
        elif is_untouched(target, exercise.metadata["emlib"]["fingerprint"]):
            target.write_text(text, encoding="utf-8")
            report.updated.append(name)
        elif force:
            target.write_text(text, encoding="utf-8")
            report.overwritten.append(name)
        else:
            report.skipped.append(name)
    known = {p.name for p in sources}
    for orphan in sorted(p.name for p in exercises_dir.glob("*.ipynb") if p.name not in known):
        msg = f"{exercises_dir / orphan} has no solution in {solutions_dir}"
        if check:
            report.problems.append(msg)
        else:
            out(f"note: {msg} (left alone)")
    _print_report(report, exercises_dir, check, out)
    return report


def _print_report(report: Report, exercises_dir: Path, check: bool, out) -> None:
    if check:
        if report.problems:
            out("exercises/ is out of date:")
            for p in report.problems:
                out(f"  {p}")
            out("Run `make exercises` (python -m emlib.course.make_exercises) and commit the result.")
        else:
            out(f"exercises/ is up to date ({len(report.unchanged)} notebooks).")
        return
    for label, names in (("created", report.created), ("updated", report.updated),
                         ("overwritten (--force)", report.overwritten), ("unchanged", report.unchanged)):
        if names:
            out(f"{label}: {', '.join(names)}")
    if report.skipped:
        out("SKIPPED, because they were edited since they were generated (your work is kept):")
        for name in report.skipped:
            out(f"  {exercises_dir / name}")
        out("Save a copy of your work, then overwrite them with `make exercises FORCE=1` "
            "(python -m emlib.course.make_exercises --force).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emlib.course.make_exercises",
                                     description="Generate exercises/ from solutions/.")
    parser.add_argument("--solutions", type=Path, help="default: solutions/ of the course folder")
    parser.add_argument("--exercises", type=Path, help="default: exercises/ of the course folder")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="overwrite exercises that were edited")
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if exercises/ differs from what would be generated")
    args = parser.parse_args(argv)
    if args.solutions is None or args.exercises is None:
        try:
            root = default_root()
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        args.solutions = args.solutions or root / "solutions"
        args.exercises = args.exercises or root / "exercises"
    try:
        report = generate(args.solutions, args.exercises, force=args.force, check=args.check)
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
