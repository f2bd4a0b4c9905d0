"""A static scan of a submission's source: evidence of off-limits help, for a person to review.

The grader reads the notebook as text and parses it; nothing is run. Only
the code cells the student wrote or changed are scanned (a cell identical to
one of the exercise as generated is the course's own). Two kinds of finding:

* reaching outside the exercise (files, processes, the interpreter's
  internals, the checks' and the grader's machinery, IPython's hooks, code
  built from strings): at the top level of a cell, or in a function no task
  uses, it marks every task "needs review"; inside a function, the tasks that
  use that function.
* per task: inside the task's function, and the top-level functions and
  names it uses, a use of an emlib (or scipy) function that IS the answer
  (``emlib.e_step`` in ``e_step``, ``mixture.posterior``,
  ``scipy.special.logsumexp`` where the task says to write it), or an import
  of one anywhere in the notebook.

A scan cannot prove that code is honest, and a determined student can hide
a call from it; the grader also records, at run time, which emlib functions
ran while the student's function ran. Both are evidence for a person, not
marks.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

RISKY_MODULES = {
    "subprocess", "ctypes", "inspect", "gc", "importlib", "multiprocessing", "threading", "_thread", "signal",
    "socket", "pty", "shutil", "glob", "pathlib", "nbformat", "nbclient", "nbconvert", "IPython", "builtins",
    "marshal", "pickle", "dill", "cloudpickle", "code", "codeop", "runpy", "tempfile", "io", "zipfile", "tarfile",
    "site", "sysconfig", "jupyter_client", "ipykernel", "urllib", "requests", "http", "asyncio", "concurrent",
    "resource", "fcntl", "mmap", "atexit", "emlib.course.grading", "emlib.course.grade", "emlib.course.checks._feedback",
    "emlib.course.make_exercises", "traceback", "types", "functools", "operator", "copyreg", "posix",
}
RISKY_CALLS = {"exec", "eval", "compile", "__import__", "open", "globals", "vars", "setattr", "delattr",
               "breakpoint", "get_ipython", "memoryview"}
RISKY_ATTRS = {
    "setprofile", "settrace", "_getframe", "modules", "system", "popen", "fork", "forkpty", "kill", "killpg",
    "_exit", "setsid", "execv", "execve", "execvp", "execl", "spawnv", "spawnl", "posix_spawn", "listdir", "scandir",
    "walk", "remove", "unlink", "rmdir", "rename", "chmod", "chown", "symlink", "read_text", "read_bytes",
    "write_text", "write_bytes", "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__",
    "__dict__", "__class__", "__bases__", "__mro__", "f_back", "f_globals", "f_locals", "tb_frame", "gi_frame",
    "input_transformers_cleanup", "input_transformers_post", "ast_transformers", "register_magic_function",
    "events", "evaluate", "reference", "_REGISTRY", "_SPECS", "registry", "get_check", "spec", "run_task",
    "setrecursionlimit", "addaudithook", "environ", "putenv", "getpid", "getppid", "prlimit", "setrlimit",
}
RISKY_NAMES = {"__builtins__", "__loader__", "__spec__", "get_ipython", "_ih", "_oh", "_ii", "_iii", "Out"}
RISKY_TEXT = re.compile(r"solutions|\.ipynb|/proc|emlib-snapshot|answers-|/tmp/box|grades|\.jsonl|EMLIB_", re.I)
ALLOWED_MAGICS = re.compile(r"^\s*%{1,2}(matplotlib|time|timeit|precision|config\s+InlineBackend)\b")


@dataclass(frozen=True)
class Finding:
    """One piece of evidence: the task it concerns (None: every task), where, and what."""

    task: str | None
    cell: int
    line: int
    text: str

    def __str__(self) -> str:
        return f"cell {self.cell + 1}, line {self.line}: {self.text}"


def _strip_magics(source: str, cell: int, findings: list[Finding]) -> str:
    lines = []
    for number, line in enumerate(source.split("\n"), 1):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#")):
            if not ALLOWED_MAGICS.match(line):
                findings.append(Finding(None, cell, number, f"IPython command `{stripped[:60]}`"))
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines)


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _general(tree, cell: int, findings: list[Finding]) -> None:
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(alias.name == m or alias.name.startswith(m + ".") for m in RISKY_MODULES):
                    findings.append(Finding(None, cell, line, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if any(module == m or module.startswith(m + ".") for m in RISKY_MODULES):
                findings.append(Finding(None, cell, line, f"imports from {module}"))
            elif module in ("os", "sys") or module.startswith("emlib.course"):
                bad = [a.name for a in node.names if a.name in RISKY_ATTRS or a.name in RISKY_CALLS or a.name == "*"
                       or (module.startswith("emlib.course") and not a.name.startswith("check_"))]
                if bad:
                    findings.append(Finding(None, cell, line, f"imports {', '.join(bad)} from {module}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in RISKY_CALLS:
            findings.append(Finding(None, cell, line, f"calls {node.func.id}()"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant):
                findings.append(Finding(None, cell, line, "getattr with a computed attribute name"))
            elif str(node.args[1].value) in RISKY_ATTRS:
                findings.append(Finding(None, cell, line, f"getattr(..., {node.args[1].value!r})"))
        elif isinstance(node, ast.Attribute) and node.attr in RISKY_ATTRS:
            findings.append(Finding(None, cell, line, f"uses `{_dotted(node) or node.attr}`"))
        elif isinstance(node, ast.Name) and node.id in RISKY_NAMES:
            findings.append(Finding(None, cell, line, f"uses `{node.id}`"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RISKY_TEXT.search(node.value):
            findings.append(Finding(None, cell, line, f"the string {node.value[:60]!r}"))


def _top_level(trees) -> dict[str, list]:
    """Every top-level definition (def, class, assignment, import) of a name, across the scanned cells."""
    defs: dict[str, list] = {}
    for cell, tree in trees:
        for node in tree.body:
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [(a.asname or a.name).split(".")[0] for a in node.names]
            for name in names:
                defs.setdefault(name, []).append((cell, node))
    return defs


def _per_task(task: str, off_limits: tuple[str, ...], trees, defs, tasks_all, findings: list[Finding]) -> None:
    short = {name.rsplit(".", 1)[-1] for name in off_limits}
    if not short:
        return
    for cell, tree in trees:                       # an import of an off-limits function, anywhere
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("emlib", "scipy", "sklearn"):
                for alias in node.names:
                    if alias.name in short or alias.name == "*":
                        findings.append(Finding(task, cell, node.lineno,
                                                f"imports {alias.name} from {node.module}, which is off limits "
                                                f"for {task}"))
    mine = _scope(task, defs)
    others = set()
    for other in tasks_all:
        if other != task:
            others |= _scope(other, defs)
    others -= mine
    for cell, tree in trees:                       # the task's function, its helpers, and all top-level code
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in others:
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Attribute) and sub.attr in short:
                    findings.append(Finding(task, cell, getattr(sub, "lineno", 0),
                                            f"`{_dotted(sub) or sub.attr}` is off limits for {task}: the task is "
                                            "to write it"))


def _scope(task: str, defs) -> set[str]:
    """The names of the task's function and of the top-level functions and names it uses, transitively."""
    seen, queue = set(), [task]
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        for _cell, node in defs.get(name, []):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and sub.id in defs and sub.id not in seen:
                    queue.append(sub.id)
    return seen


def scan(cells: list[str], template: set[str], tasks: dict[str, tuple[str, ...]]) -> list[Finding]:
    """Findings in ``cells`` (code cell sources, by position), skipping cells equal to the template's.

    ``tasks`` maps each task to the qualified names that are off limits for it.
    """
    findings: list[Finding] = []
    trees = []
    for index, source in enumerate(cells):
        if source is None or source.strip() in template or not source.strip():
            continue
        try:
            tree = ast.parse(_strip_magics(source, index, findings))
        except (SyntaxError, ValueError):
            continue          # a cell that does not parse does not run either
        trees.append((index, tree))
        _general(tree, index, findings)
    defs = _top_level(trees)
    findings = _assign_general(findings, trees, defs, list(tasks))
    for task, names in tasks.items():
        _per_task(task, names, trees, defs, list(tasks), findings)
    return list(dict.fromkeys(findings))


def _assign_general(findings: list[Finding], trees, defs, tasks: list[str]) -> list[Finding]:
    """A finding inside a function concerns the tasks that use that function; elsewhere, every task.

    So ``os._exit`` inside ``logsumexp_rows`` marks ``logsumexp_rows`` (and any task calling it),
    not a task written without it; the same line at the top level of a cell marks every task.
    """
    owners: dict[tuple[int, int], set[str]] = {}     # (cell, line) -> tasks whose scope holds that line
    scopes = {t: _scope(t, defs) for t in tasks}
    for cell, tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                users = {t for t, scope in scopes.items() if node.name in scope}
                if not users:
                    continue
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    owners.setdefault((cell, line), set()).update(users)
    out = []
    for f in findings:
        users = owners.get((f.cell, f.line))
        if f.task is None and users:
            out += [Finding(t, f.cell, f.line, f.text) for t in sorted(users)]
        else:
            out.append(f)
    return out
