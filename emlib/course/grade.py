"""Grade submitted exercise notebooks: the verdict is computed where student code never runs.

    python -m emlib.course.grade SUBMISSIONS... [--out grades/grades.csv] [--force] [--timeout 120]

For every submission (a notebook, or a folder searched recursively for ``*.ipynb`` in any case):

1. read it once and hash it (it is never written; the hash is checked again at the end);
   tell which exercise it is (``metadata.emlib.exercise``, else the ``NN_topic`` of its
   file name; a disagreement is a note) and read the tasks from the solution notebook;
2. scan its source, without running it, for off-limits help (:mod:`emlib.course.grading.scan`);
3. draw every task's hidden grading cases from a fresh secret seed, and write their
   inputs as plain data (JSON and ``.npz``, no pickles);
4. run it in a sandbox (:mod:`emlib.course.grading.sandbox`): a throwaway folder, an
   unprivileged user, the course and other submissions hidden, emlib as a read-only
   snapshot, limits on memory, processes, file size and CPU time, everything killed at the
   end. There the notebook runs, then each task's function is called on the hidden inputs
   and its answers are written as data;
5. here, in the grader's process, run each task's check on those answers against emlib's
   reference (:mod:`emlib.course.grading.judge`). A task scores 1 if its answers pass and
   nothing calls for review; evidence of off-limits help (an emlib function that is the
   answer ran while the student's function ran, or the source reaches for it, or for the
   checks, files, processes or the interpreter's internals) withholds the point and marks the
   task "needs review" with the evidence. The notebook's own check cells never count.

Prints a table per exercise and the reasons, and writes a CSV (one row per task, a TOTAL row
per submission, a SKIPPED row per file that was not graded). An existing CSV is never
overwritten without ``--force``: the grades go to a new file next to it, named in the output.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .make_exercises import default_root, make_exercise, tasks_of

DEFAULT_TIMEOUT = 120.0
"""Seconds the notebook's own cells may run (kernel start-up not included)."""

TASK_TIMEOUT = 60.0
"""Seconds each task's answering cell may run."""

PASSED, FAILED, REVIEW = "passed", "failed", "needs review"


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class TaskScore:
    task: str
    points: int
    reason: str
    status: str = ""

    def __post_init__(self):
        if not self.status:
            self.status = PASSED if self.points else FAILED


@dataclass
class Grade:
    """The grade of one submission (``submission`` is its unique display path)."""

    submission: str
    exercise: str | None
    tasks: list[TaskScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(t.points for t in self.tasks)

    @property
    def max_score(self) -> int:
        return len(self.tasks)


class GradeError(Exception):
    """The submission cannot be graded at all (not a notebook, unknown exercise)."""


# ------------------------------------------------------------------------------------------------
# Which files, which exercise, which tasks
# ------------------------------------------------------------------------------------------------
def discover(paths: list[str]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """Submissions as ``(path, unique display path)`` and skipped files as ``(path, reason)``.

    Folders are searched recursively; ``*.ipynb`` matches in any case; hidden files and folders
    (``.ipynb_checkpoints``) and symbolic links are skipped, each with its reason.
    """
    found: list[tuple[Path, str]] = []
    skipped: list[tuple[str, str]] = []
    for arg in paths:
        top = Path(arg)
        if top.is_symlink():
            skipped.append((arg, "a symbolic link (grade the file it points to instead)"))
        elif top.is_dir():
            for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
                here = Path(dirpath)
                for d in sorted(dirnames):
                    if d.startswith("."):
                        skipped.append((str(here / d) + os.sep, "a hidden folder"))
                    elif (here / d).is_symlink():
                        skipped.append((str(here / d), "a symbolic link to a folder"))
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
                for name in sorted(filenames):
                    path = here / name
                    rel = str(path.relative_to(top)) if top != Path(".") else str(path)
                    display = str(Path(top.name) / rel) if top.name else rel
                    if name.startswith("."):
                        skipped.append((str(path), "a hidden file"))
                    elif not name.lower().endswith(".ipynb"):
                        skipped.append((str(path), "not a notebook (.ipynb)"))
                    elif path.is_symlink():
                        skipped.append((str(path), "a symbolic link"))
                    elif not path.is_file():
                        skipped.append((str(path), "not a regular file"))
                    else:
                        found.append((path, display))
        elif not top.exists():
            skipped.append((arg, "file not found"))
        elif not top.is_file():
            skipped.append((arg, "not a regular file"))
        else:
            found.append((top, str(top)))
    seen: dict[str, int] = {}
    unique = []
    for path, display in found:
        n = seen.get(display, 0) + 1
        seen[display] = n
        unique.append((path, display if n == 1 else f"{display} [{n}]"))
    return unique, skipped


def _from_name(name: str, stems: list[str]) -> str | None:
    lowered = name.lower()
    for stem in sorted(stems, key=len, reverse=True):
        if stem.lower() in lowered:
            return stem
    match = re.search(r"(?<!\d)(\d\d)(?!\d)", name)
    if match:
        same = [s for s in stems if s.startswith(match.group(1) + "_")]
        if len(same) == 1:
            return same[0]
    return None


def identify(path: Path, nb, solutions_dir: Path, notes: list[str] | None = None) -> str:
    """The exercise a submission belongs to: its metadata, else the ``NN_topic`` in its file name.

    When both are present and disagree, the metadata wins and a note says so.
    """
    stems = sorted(p.stem for p in Path(solutions_dir).glob("*.ipynb"))
    meta_ex = None
    if nb is not None:
        meta = nb.metadata.get("emlib", {}) if hasattr(nb, "metadata") else {}
        if isinstance(meta, dict) and meta.get("exercise") in stems:
            meta_ex = meta["exercise"]
    by_name = _from_name(Path(path).name, stems)
    if meta_ex:
        if by_name and by_name != meta_ex and notes is not None:
            notes.append(f"WARNING: the file name says {by_name} but the notebook's metadata says {meta_ex}; "
                         f"graded as {meta_ex}")
        return meta_ex
    if by_name:
        return by_name
    raise GradeError(f"cannot tell which exercise this is (known: {', '.join(stems) or 'none'}); "
                     "keep the exercise's file name, e.g. 03_e_step.ipynb, in the submission's name")


def expected_tasks(exercise: str, solutions_dir: Path) -> list[str]:
    """The tasks of an exercise, read from its solution notebook's check calls."""
    return tasks_of(nbformat.read(str(Path(solutions_dir) / f"{exercise}.ipynb"), as_version=4))


def template_cells(exercise: str, solutions_dir: Path) -> set[str]:
    """The code cells of the exercise as generated (the course's own code, not the student's)."""
    solution = nbformat.read(str(Path(solutions_dir) / f"{exercise}.ipynb"), as_version=4)
    exercise_nb = make_exercise(solution, exercise)
    return {c.source.strip() for c in exercise_nb.cells if c.cell_type == "code"}


# ------------------------------------------------------------------------------------------------
# Grading one submission
# ------------------------------------------------------------------------------------------------
@dataclass
class Batch:
    """What every submission of one run shares: the solutions, the sandbox's workspace and settings."""

    solutions: Path
    settings: object
    mode: str
    workspace: object


def grade_submission(path: Path, display: str, batch: Batch) -> Grade:
    """Grade one notebook; never raises for anything the submission does."""
    from .grading import sandbox

    grade = Grade(submission=display, exercise=None)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        grade.notes.append(f"cannot be read: {exc.strerror}")
        return grade
    digest = sandbox.sha256_bytes(data)
    nb, nb_error = None, ""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a reason, not a crash
        nb_error = f"not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"
        nb = None
    try:
        grade.exercise = identify(path, nb, batch.solutions, grade.notes)
        tasks = expected_tasks(grade.exercise, batch.solutions)
    except (GradeError, OSError, ValueError) as exc:
        grade.notes.append(str(exc) if not nb_error else f"{nb_error}; {exc}")
        return grade
    if nb is None:
        grade.tasks = [TaskScore(t, 0, nb_error) for t in tasks]
        grade.notes.append(nb_error)
        return grade
    try:
        _run_and_score(nb, tasks, batch, grade)
    except Exception as exc:  # noqa: BLE001 - a bug of the grader costs this submission, not the batch
        done = {t.task for t in grade.tasks}
        grade.tasks += [TaskScore(t, 0, f"not graded: grader error {type(exc).__name__}: {str(exc)[:160]}")
                        for t in tasks if t not in done]
    try:
        after = sandbox.file_digest(Path(path))
    except OSError:
        after = None
    if after != digest:
        grade.notes.append("WARNING: the file changed while it was being graded; graded as it was when read "
                           f"(sha256 {digest[:16]})")
    return grade


def _clean_notebook(nb) -> bytes:
    """The notebook as the kernel will run it: cells whose source is not text run as empty cells."""
    for cell in nb.cells:
        if not isinstance(cell.get("source"), str):
            cell["source"] = ""
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
    return nbformat.writes(nb).encode("utf-8")


def _run_and_score(nb, tasks: list[str], batch: Batch, grade: Grade) -> None:
    from .checks import _feedback
    from .grading import judge, sandbox, scan

    cells = [c.source if c.get("cell_type") == "code" and isinstance(c.get("source"), str) else None
             for c in nb.cells]
    findings = scan.scan(cells, template_cells(grade.exercise, batch.solutions),
                         {t: _feedback.spec(t).off_limits for t in tasks})
    seed = secrets.randbits(63)                 # never written anywhere the kernel can read
    payload, arrays, structures = judge.draw_cases(tasks, seed)
    sub = batch.workspace.new()
    result = sandbox.run(sub, batch.workspace, _clean_notebook(nb), tasks, payload, arrays, batch.settings,
                         batch.mode)
    status, jail = result["status"], result["jail"]
    grade.notes += _run_notes(status, jail, len(nb.cells))
    general = [f for f in findings if f.task is None]
    for task in tasks:
        try:
            grade.tasks.append(_score(task, structures[task], judge.read_answers(result["outbox"], task), status,
                                      [f for f in findings if f.task == task] + general))
        except Exception as exc:  # noqa: BLE001 - one task's trouble stays in that task
            grade.tasks.append(TaskScore(task, 0, f"not graded: grader error {type(exc).__name__}: {str(exc)[:160]}"))


def _score(task: str, structure, answers, status: dict, findings) -> TaskScore:
    from .grading import judge

    ran = status.get("tasks", {}).get(task) if isinstance(status.get("tasks"), dict) else None
    ran = ran if isinstance(ran, list) and ran else ["unknown"]
    if answers.problem:
        if ran[0] in ("timeout", "kernel died"):
            why = {"timeout": f"{task} did not finish within its time limit",
                   "kernel died": f"the kernel died while {task} ran (os._exit, a crash, or out of memory)"}[ran[0]]
        elif str(ran[0]).startswith("not run"):
            why = f"{task} was {ran[0]}"
        else:
            why = f"no answers from the run ({answers.problem})"
        return TaskScore(task, 0, why)
    if "undefined" in answers.notes:
        return TaskScore(task, 0, f"{task} is not defined in the notebook (was its cell deleted, renamed, or "
                                  "never run?)")
    result = judge.verdict(task, structure, answers)
    evidence = judge.runtime_evidence(task, answers) + [str(f) for f in findings]
    message = _first_line(result)
    if ran[0] in ("timeout", "kernel died") and not result.passed:
        message = f"{message} ({task}: {ran[0]})"
    if result.passed and evidence:
        return TaskScore(task, 0, "needs review: " + "; ".join(evidence[:6])
                         + (f"; and {len(evidence) - 6} more" if len(evidence) > 6 else ""), REVIEW)
    if result.passed:
        return TaskScore(task, 1, "passed")
    if evidence:
        message += " [also: " + "; ".join(evidence[:3]) + "]"
    return TaskScore(task, 0, message)


def _first_line(result) -> str:
    if result.passed:
        return "passed"
    message = str(result.message).strip().split("\n")[0]
    if result.kind == "not implemented":
        message = message.split(". ")[0]
    return message[:300]


def _run_notes(status: dict, jail: dict, n_cells: int) -> list[str]:
    notes = []
    if jail.get("error"):
        notes.append(str(jail["error"])[:300])
    if jail.get("wall_exceeded"):
        notes.append("the sandbox's wall-clock limit was reached; everything in it was killed")
    left = jail.get("left_behind")
    if isinstance(left, int) and left > 0:
        notes.append(f"{left} process(es) still running at the end were killed (background processes)")
    if status.get("problem"):
        notes.append(f"the run left no status ({status['problem']})")
    skipped = status.get("skipped", {})
    if isinstance(skipped, dict):
        for index, what in sorted(skipped.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0)[:5]:
            kind, source = (list(what) + ["", ""])[:2] if isinstance(what, list) else (str(what), "")
            where = f"cell {int(index) + 1} of {n_cells}" if str(index).isdigit() else "a cell"
            if kind == "timeout":
                notes.append(f"{where} (`{source}`) did not finish within the time limit; skipped")
            elif kind == "kernel died":
                notes.append(f"the kernel died in {where} (`{source}`: os._exit, exit(), a crash or out of "
                             "memory); the kernel was restarted without it")
            else:
                notes.append(f"{where} (`{source}`) stopped the kernel ({kind}); skipped")
    for error in list(status.get("errors", []))[:5]:
        notes.append(str(error)[:200])
    printed = status.get("printed", 0)
    if isinstance(printed, int) and printed > 1_000_000:
        notes.append(f"printed {printed / 1e6:.0f} MB of output (discarded)")
    return notes


# ------------------------------------------------------------------------------------------------
# Reporting
# ------------------------------------------------------------------------------------------------
def format_table(grades: list[Grade], skipped: list[tuple[str, str]] | None = None) -> str:
    """A score table per exercise ("R" marks a point withheld for review), then the reasons."""
    lines: list[str] = []
    by_exercise: dict[str, list[Grade]] = {}
    for g in grades:
        by_exercise.setdefault(g.exercise or "(unknown exercise)", []).append(g)
    for exercise, group in by_exercise.items():
        tasks: list[str] = []
        for g in group:
            tasks += [t.task for t in g.tasks if t.task not in tasks]
        width = max([len("submission")] + [len(g.submission) for g in group])
        lines.append(f"== {exercise} ==")
        lines.append("  ".join(["submission".ljust(width)] + tasks + ["score"]))
        for g in group:
            points = {t.task: ("R" if t.status == REVIEW else str(t.points)) for t in g.tasks}
            row = [g.submission.ljust(width)] + [points.get(t, "-").center(len(t)) for t in tasks]
            row.append(f"{g.score}/{g.max_score}")
            lines.append("  ".join(row))
        lines.append("")
    reasons = []
    for g in grades:
        lost = [t for t in g.tasks if not t.points]
        if lost or g.notes:
            reasons.append(f"{g.submission}: {g.score}/{g.max_score}")
            reasons += [f"    note: {n}" for n in g.notes]
            reasons += [f"    {t.task}: {t.reason}" for t in lost]
    if reasons:
        lines.append("Reasons:")
        lines += reasons
    if skipped:
        lines.append("Skipped (not graded):")
        lines += [f"    {path}: {why}" for path, why in skipped]
    return "\n".join(lines).rstrip() + "\n"


def write_csv(grades: list[Grade], path: Path, skipped: list[tuple[str, str]] | None = None,
              force: bool = False) -> Path:
    """Write the CSV atomically; returns the path written.

    An existing file is replaced only with ``force``; otherwise the grades go to the first free
    name ``<stem>-2.csv``, ``<stem>-3.csv``, ... next to it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["submission", "exercise", "task", "points", "max_points", "status", "reason"])
            for g in grades:
                for t in g.tasks:
                    writer.writerow([g.submission, g.exercise or "", t.task, t.points, 1, t.status, t.reason])
                writer.writerow([g.submission, g.exercise or "", "TOTAL", g.score, g.max_score, "",
                                 "; ".join(g.notes)])
            for where, why in skipped or []:
                writer.writerow([where, "", "SKIPPED", 0, 0, "skipped", why])
        if force:
            os.replace(tmp, path)
            return path
        target, n = path, 1
        while True:
            try:
                os.link(tmp, target)            # fails if the name exists: never overwrites
                os.unlink(tmp)
                return target
            except FileExistsError:
                n += 1
                target = path.with_name(f"{path.stem}-{n}{path.suffix}")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    import emlib

    from .grading import sandbox

    parser = argparse.ArgumentParser(prog="python -m emlib.course.grade", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", help="submitted .ipynb files, or folders searched recursively")
    parser.add_argument("--out", type=Path, default=Path("grades") / "grades.csv",
                        help="CSV file to write (default: %(default)s); never overwritten without --force")
    parser.add_argument("--force", action="store_true", help="replace an existing CSV")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds the notebook's cells may run (default: %(default)s)")
    parser.add_argument("--task-timeout", type=float, default=TASK_TIMEOUT,
                        help="seconds each task's answers may take (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at once, each in its own sandbox (default: %(default)s)")
    parser.add_argument("--memory", type=float, default=3.0, help="GiB of address space per process (default 3)")
    parser.add_argument("--solutions", type=Path, default=None,
                        help="folder of solution notebooks, the source of the task lists (default: the course's)")
    parser.add_argument("--hide", action="append", default=[], metavar="DIR",
                        help="a further folder the submissions must not see (repeatable)")
    parser.add_argument("--isolation", choices=["auto", "root", "user"], default="auto",
                        help="sandbox level (default: the strongest available; see exercises/README.md)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run without namespaces (limits only): for trusted notebooks, never for homework")
    args = parser.parse_args(argv)
    if args.solutions is None:
        args.solutions = default_root() / "solutions"
    root = Path(args.solutions).resolve().parent
    mode = "none" if args.no_sandbox else sandbox.isolation_mode(args.isolation)
    if mode == "unavailable":
        print("no sandbox is available here (needs `unshare` from util-linux, and root or unprivileged user "
              "namespaces); see exercises/README.md for the container recipe, or pass --no-sandbox for "
              "trusted notebooks only", file=sys.stderr)
        return 2
    paths, skipped = discover(args.submissions)
    if not paths:
        print("no submissions found", file=sys.stderr)
        for where, why in skipped:
            print(f"    skipped {where}: {why}", file=sys.stderr)
        return 2
    emlib_dir = Path(emlib.__file__).resolve().parent
    hide = [str(root), str(emlib_dir.parent), str(Path(args.solutions).resolve().parent),
            str(Path(args.out).resolve().parent), os.path.expanduser("~")] + args.hide
    hide += sorted({str(Path(p).resolve().parent) for p, _ in paths})
    hide += [str(Path(a).resolve()) for a in args.submissions if Path(a).is_dir()]
    prefix = Path(sys.prefix).resolve().parent
    if (prefix / "emlib").is_dir() or (prefix / "solutions").is_dir():
        hide.append(str(prefix))
    hide = [h for h in hide if h not in ("/", "") and Path(h).is_dir()]
    settings = sandbox.Settings(notebook_timeout=args.timeout, task_timeout=args.task_timeout, hide=hide,
                                limits=sandbox.Limits(memory_bytes=int(args.memory * 1024**3)))
    print(f"sandbox: {mode} (see exercises/README.md for what it guarantees)", file=sys.stderr)
    workspace = sandbox.Workspace(emlib_dir)
    batch = Batch(Path(args.solutions), settings, mode, workspace)

    def one(item):
        i, (path, display) = item
        print(f"[{i}/{len(paths)}] grading {display} ...", file=sys.stderr, flush=True)
        try:
            return grade_submission(path, display, batch)
        except Exception as exc:  # noqa: BLE001 - a bug in the grader must not stop the batch either
            return Grade(display, None, notes=[f"grader error: {type(exc).__name__}: {exc}"])

    try:
        if args.jobs > 1:           # each submission in its own sandbox: they cannot see one another
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                grades = list(pool.map(one, enumerate(paths, 1)))
        else:
            grades = [one(item) for item in enumerate(paths, 1)]
    finally:
        workspace.close()
    print(format_table(grades, skipped), end="")
    written = write_csv(grades, args.out, skipped, force=args.force)
    if written != args.out:
        print(f"{args.out} exists (pass --force to replace it); wrote {written}")
    else:
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
