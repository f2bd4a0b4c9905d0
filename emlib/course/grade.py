"""Grade submitted exercise notebooks.

    python -m emlib.course.grade SUBMISSIONS... [--out grades/grades.csv] [--timeout 120]

For every submission (a notebook, or a folder of them):

1. tell which exercise it is (``metadata.emlib.exercise``, else the
   ``NN_topic`` in its file name) and read the expected tasks from the
   matching solution notebook (its ``check_<task>(`` calls);
2. copy it into a fresh temporary folder (the submission itself is never
   touched) and append one cell that re-runs every task's check on the
   student's final definition of that function;
3. execute the copy in a fresh kernel (nbclient), in a separate process,
   with a time limit for the whole notebook; errors in cells do not stop it;
4. read the verdicts: every check appends one JSON line to the file named by
   ``EMLIB_CHECK_LOG`` (see :mod:`emlib.course.checks._feedback`). A task scores 1
   if the final re-check passed. If the run never reached the final cell
   (time limit, dead kernel) the notebook's own check cell counts instead,
   provided it was called on the function of that name; otherwise 0, with
   the reason.

Nothing a submission does (raise, loop forever, ``sys.exit``, kill its
kernel, print megabytes, delete cells) stops the batch. Prints a table and
writes a CSV with one row per task and one TOTAL row per submission.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .checks._feedback import LOG_ENV
from .make_exercises import default_root, tasks_of

DEFAULT_TIMEOUT = 120.0
"""Seconds a whole submission may run (kernel start-up not included)."""

STARTUP_ALLOWANCE = 60.0
"""Extra seconds for the kernel to start and the worker to clean up, before it is killed."""

SUBMISSION = "submission.ipynb"
STATUS = "status.json"
NOTEBOOK_LOG = "notebook-checks.jsonl"
KERNEL_PID = "kernel.pid"


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class TaskScore:
    task: str
    points: int
    reason: str


@dataclass
class Grade:
    """The grade of one submission."""

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
# Which exercise, which tasks
# ------------------------------------------------------------------------------------------------
def identify(path: Path, nb, solutions_dir: Path) -> str:
    """The exercise a submission belongs to: its metadata, else the ``NN_topic`` in its file name."""
    stems = sorted(p.stem for p in Path(solutions_dir).glob("*.ipynb"))
    if nb is not None:
        meta = nb.metadata.get("emlib", {}) if hasattr(nb, "metadata") else {}
        if isinstance(meta, dict) and meta.get("exercise") in stems:
            return meta["exercise"]
    name = path.name
    for stem in sorted(stems, key=len, reverse=True):
        if stem in name:
            return stem
    match = re.search(r"(?<!\d)(\d\d)(?!\d)", name)
    if match:
        same = [s for s in stems if s.startswith(match.group(1) + "_")]
        if len(same) == 1:
            return same[0]
    raise GradeError(f"cannot tell which exercise this is (known: {', '.join(stems) or 'none'}); "
                     "keep the exercise's file name, e.g. 03_e_step.ipynb, in the submission's name")


def expected_tasks(exercise: str, solutions_dir: Path) -> list[str]:
    """The tasks of an exercise, read from its solution notebook's check calls."""
    return tasks_of(nbformat.read(str(Path(solutions_dir) / f"{exercise}.ipynb"), as_version=4))


def grading_cell(tasks: list[str], log_path: str) -> str:
    return textwrap.dedent(f"""\
        # Appended by emlib.course.grade: re-check every task on its final definition.
        from emlib.course.checks._feedback import grade_namespace as _emlib_grade_namespace
        _emlib_grade_namespace({tasks!r}, globals(), {log_path!r})
        """)


# ------------------------------------------------------------------------------------------------
# Grading one submission (parent side)
# ------------------------------------------------------------------------------------------------
def grade_submission(path, solutions_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Grade:
    """Grade one notebook; never raises for anything the submission does."""
    path = Path(path)
    grade = Grade(submission=str(path), exercise=None)
    nb = None
    try:
        nb = nbformat.read(str(path), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a reason, not a crash
        nb_error = f"not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"
        nb = None
    else:
        nb_error = ""
    try:
        grade.exercise = identify(path, nb, solutions_dir)
        tasks = expected_tasks(grade.exercise, solutions_dir)
    except (GradeError, OSError, ValueError) as exc:
        grade.notes.append(str(exc) if not nb_error else f"{nb_error}; {exc}")
        return grade
    if nb is None:
        grade.tasks = [TaskScore(t, 0, nb_error) for t in tasks]
        grade.notes.append(nb_error)
        return grade

    try:
        return _run_and_score(path, nb, tasks, solutions_dir, timeout, grade)
    except Exception as exc:  # noqa: BLE001 - e.g. a notebook too malformed to copy
        grade.tasks = [TaskScore(t, 0, f"could not be run: {type(exc).__name__}: {str(exc)[:120]}") for t in tasks]
        return grade


def _run_and_score(path: Path, nb, tasks: list[str], solutions_dir: Path, timeout: float, grade: Grade) -> Grade:
    present = set(tasks_of(nb))
    workdir = Path(tempfile.mkdtemp(prefix="emlib-grade-"))
    try:
        final_log = workdir / f"grader-{secrets.token_hex(8)}.jsonl"
        copy = nbformat.from_dict(json.loads(json.dumps(nb)))
        for cell in copy.cells:             # a cell that cannot run is skipped, not fatal
            if cell.get("cell_type") == "code" and not isinstance(cell.get("source"), str):
                cell["source"] = ""
        copy.cells.append(nbformat.v4.new_code_cell(grading_cell(tasks, str(final_log))))
        nbformat.write(copy, str(workdir / SUBMISSION))
        status = _run_worker(workdir, timeout)
        final = _read_log(final_log)
        own = _read_log(workdir / NOTEBOOK_LOG)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    stopped = status.get("status") != "completed"
    run_note = _describe_status(status, timeout, len(copy.cells) - 1)
    if run_note:
        grade.notes.append(run_note)
    grade.notes += status.get("notes", [])
    for task in tasks:
        grade.tasks.append(_score_task(task, final.get(task), own.get(task), stopped, run_note,
                                       task in present))
    return grade


def _score_task(task, final, own, stopped, run_note, has_check_cell) -> TaskScore:
    missing_cell = "" if has_check_cell else " (its check cell was deleted)"
    if final is not None:
        return TaskScore(task, int(bool(final["passed"])), _first_line(final) + missing_cell)
    if own is not None and own.get("function") == task:
        if own["passed"]:
            return TaskScore(task, 1, f"passed in the notebook's own check; {run_note}")
        return TaskScore(task, 0, f"{_first_line(own)} ({run_note})")
    if stopped:
        return TaskScore(task, 0, f"not checked: {run_note}")
    return TaskScore(task, 0, "not checked: the grader's final check did not run" + missing_cell)


def _first_line(entry: dict) -> str:
    if entry["passed"]:
        return "passed"
    message = str(entry.get("message", "")).strip().split("\n")[0]
    if entry.get("kind") == "not implemented":
        message = message.split(". ")[0]
    return message[:300]


def _read_log(path: Path) -> dict[str, dict]:
    """The last verdict recorded for every task (a broken line is skipped)."""
    results: dict[str, dict] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return results
    for line in lines:
        try:
            entry = json.loads(line)
            task = entry["task"]
            entry["passed"] = entry.get("passed") is True
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(task, str):
            results[task] = entry
    return results


def _describe_status(status: dict, timeout: float, n_cells: int) -> str:
    kind = status.get("status")
    cell = status.get("cell")
    where = f" in cell {cell + 1} of {n_cells}" if isinstance(cell, int) else ""
    first = status.get("source", "")
    shown = f" (`{first}`)" if first else ""
    if kind == "completed":
        return ""
    if kind == "timeout":
        return f"the notebook did not finish within {timeout:g} s; stopped{where}{shown}"
    if kind == "kernel died":
        return f"the kernel died{where}{shown} (os._exit, exit(), a crash or out of memory)"
    if kind == "killed":
        return f"the run was killed after {timeout + STARTUP_ALLOWANCE:g} s"
    return f"the notebook could not be run: {status.get('detail', 'unknown error')}"


def _run_worker(workdir: Path, timeout: float) -> dict:
    """Execute the copy in a separate process; kill it (and its kernel) if it overruns."""
    cmd = [sys.executable, "-c", "import sys; from emlib.course.grade import _worker; _worker(sys.argv[1], "
           "float(sys.argv[2]))", str(workdir), str(timeout)]
    env = dict(os.environ)
    env.pop(LOG_ENV, None)
    with open(workdir / "worker.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
                                cwd=str(workdir))
        try:
            proc.wait(timeout=timeout + STARTUP_ALLOWANCE)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
    _kill_kernel(workdir)
    try:
        return json.loads((workdir / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if proc.returncode is not None and proc.returncode < 0:
            return {"status": "killed"}
        tail = (workdir / "worker.log").read_text(errors="replace")[-300:].strip()
        return {"status": "error", "detail": tail or f"worker exited with code {proc.returncode}"}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_kernel(workdir: Path) -> None:
    """Kill the kernel the worker started, if it outlived the worker (only that process group)."""
    try:
        pid = int((workdir / KERNEL_PID).read_text().strip())
    except (OSError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    try:
        ours = str(workdir).encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return
    if b"ipykernel" in cmdline and ours:
        _kill_group(pid)


# ------------------------------------------------------------------------------------------------
# The worker: runs in its own process
# ------------------------------------------------------------------------------------------------
def _worker(workdir: str, timeout: float) -> None:
    """Execute ``workdir/submission.ipynb`` cell by cell within ``timeout`` seconds; write status.json."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    class DiscardingClient(NotebookClient):
        """Keeps only error outputs (name and message) and counts the rest, so no output can flood memory."""

        printed = 0

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream":
                self.printed += len(content.get("text", ""))
            elif msg.get("msg_type") == "error":
                outs.append(nbformat.v4.new_output("error", ename=str(content.get("ename", ""))[:100],
                                                   evalue=str(content.get("evalue", ""))[:300], traceback=[]))
            else:
                self.printed += sum(len(str(v)) for v in content.get("data", {}).values())
            return None

    work = Path(workdir)
    status: dict = {"status": "completed", "cell": None, "notes": []}
    nb = nbformat.read(str(work / SUBMISSION), as_version=4)
    env = dict(os.environ, **{LOG_ENV: str(work / NOTEBOOK_LOG), "MPLBACKEND": "Agg",
                              "EMLIB_GRADE_DIR": str(work)})
    client = DiscardingClient(nb, kernel_name="python3", allow_errors=True, interrupt_on_timeout=False,
                              shutdown_kernel="immediate", record_timing=False, iopub_timeout=10,
                              resources={"metadata": {"path": str(work)}})
    errors: list[str] = []
    try:
        with client.setup_kernel(env=env, cwd=str(work)):
            process = getattr(getattr(client.km, "provisioner", None), "process", None)
            if process is not None:
                (work / KERNEL_PID).write_text(str(process.pid))
            deadline = time.monotonic() + timeout
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                status["cell"] = index
                status["source"] = cell.source.strip().split("\n")[0][:60]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CellTimeoutError("no time left")
                client.timeout = max(1, math.ceil(remaining))
                client.execute_cell(cell, index)
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error" and len(errors) < 5:
                        errors.append(f"cell {index + 1} raised {out.get('ename')}: {out.get('evalue', '')[:120]}")
        status["cell"] = None
        status["source"] = ""
    except CellTimeoutError:
        status["status"] = "timeout"
    except DeadKernelError:
        status["status"] = "kernel died"
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        status["status"] = "error"
        status["detail"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    status["notes"] = [e for e in errors if not e.startswith(f"cell {len(nb.cells)} ")]   # not our own cell
    if client.printed > 1_000_000:
        status["notes"].append(f"printed {client.printed / 1e6:.0f} MB of output (discarded)")
    (work / STATUS).write_text(json.dumps(status), encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# Reporting
# ------------------------------------------------------------------------------------------------
def format_table(grades: list[Grade]) -> str:
    """A score table per exercise, then the reasons for every lost point."""
    lines: list[str] = []
    by_exercise: dict[str, list[Grade]] = {}
    for g in grades:
        by_exercise.setdefault(g.exercise or "(unknown exercise)", []).append(g)
    for exercise, group in by_exercise.items():
        tasks = [t.task for t in group[0].tasks] if group[0].tasks else []
        for g in group[1:]:
            tasks += [t.task for t in g.tasks if t.task not in tasks]
        width = max([len("submission")] + [len(Path(g.submission).name) for g in group])
        header = ["submission".ljust(width)] + [t for t in tasks] + ["score"]
        lines.append(f"== {exercise} ==")
        lines.append("  ".join(header))
        for g in group:
            points = {t.task: t.points for t in g.tasks}
            row = [Path(g.submission).name.ljust(width)]
            row += [str(points.get(t, "-")).center(len(t)) for t in tasks]
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
    return "\n".join(lines).rstrip() + "\n"


def write_csv(grades: list[Grade], path: Path) -> None:
    """One row per task, then one TOTAL row per submission (its reason: the run's notes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["submission", "exercise", "task", "points", "max_points", "reason"])
        for g in grades:
            for t in g.tasks:
                writer.writerow([g.submission, g.exercise or "", t.task, t.points, 1, t.reason])
            writer.writerow([g.submission, g.exercise or "", "TOTAL", g.score, g.max_score, "; ".join(g.notes)])


def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.glob("*.ipynb") if not q.name.startswith("."))
        else:
            out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    root = default_root()
    parser = argparse.ArgumentParser(prog="python -m emlib.course.grade", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", help="submitted .ipynb files, or folders of them")
    parser.add_argument("--out", type=Path, default=Path("grades") / "grades.csv",
                        help="CSV file to write (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds each notebook may run (default: %(default)s)")
    parser.add_argument("--solutions", type=Path, default=root / "solutions",
                        help="folder of solution notebooks, the source of the task lists (default: %(default)s)")
    args = parser.parse_args(argv)
    paths = _expand(args.submissions)
    if not paths:
        print("no submissions found", file=sys.stderr)
        return 2
    grades = []
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] grading {path} ...", file=sys.stderr, flush=True)
        if not path.exists():
            grades.append(Grade(str(path), None, notes=["file not found"]))
            continue
        try:
            grades.append(grade_submission(path, args.solutions, args.timeout))
        except Exception as exc:  # noqa: BLE001 - a bug in the grader must not stop the batch either
            grades.append(Grade(str(path), None, notes=[f"grader error: {type(exc).__name__}: {exc}"]))
    print(format_table(grades), end="")
    write_csv(grades, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
