"""Run one submission in isolation and collect its answers (the grader's side of the sandbox).

Isolation levels, chosen by :func:`isolation_mode`:

``root`` (the grader runs as root; CI does)
    fresh PID, mount, network, IPC and UTS namespaces (``unshare``); the
    student's code runs as ``nobody`` (uid 65534), never as root, with no new
    privileges; the course tree, the grader's emlib, every submissions folder,
    the grades folder, the instructor's home and the host's ``/tmp`` are
    hidden; the emlib it imports is a read-only snapshot; limits on memory,
    processes, file size, CPU time and open files; everything it started is
    killed at the end.
``user`` (not root, unprivileged user namespaces available)
    the same namespaces inside a user namespace; the student's code runs as
    the instructor's own uid (mapped to root inside the namespace, which
    gives it no power outside), so files the instructor can write and that
    are not hidden remain writable.
``none`` (only with ``--no-sandbox``)
    a separate process with the limits, in a throwaway folder; nothing is
    hidden. For trusted notebooks only.

Whatever the level, the verdict is computed outside, from plain data.
"""

from __future__ import annotations

import compileall
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import wire

SANDBOX_UID = 65534
SANDBOX_GID = 65534
UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--net", "--ipc", "--uts"]
JAIL_BOX = "/tmp/box"


@dataclass
class Limits:
    """Per-submission limits (each process: memory, file size, CPU; all its processes: count)."""

    memory_bytes: int = 3 * 1024**3
    processes: int = 256
    file_bytes: int = 64 * 1024**2
    cpu_seconds: int = 600
    open_files: int = 512
    tmpfs_mb: int = 512


@dataclass
class Settings:
    notebook_timeout: float = 120.0
    task_timeout: float = 60.0
    limits: Limits = field(default_factory=Limits)
    hide: list[str] = field(default_factory=list)
    mode: str = "auto"


def isolation_mode(requested: str = "auto") -> str:
    """``root``, ``user`` or ``none``; ``auto`` picks the strongest this machine offers (never ``none``)."""
    if requested != "auto":
        return requested
    if shutil.which("unshare") is None:
        return "unavailable"
    if os.geteuid() == 0:
        return "root"
    probe = subprocess.run(["unshare", "--user", "--map-root-user"] + UNSHARE[1:] + ["true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "user" if probe.returncode == 0 else "unavailable"


class Workspace:
    """The grader's private folder for one batch: the emlib snapshot and one folder per submission."""

    def __init__(self, emlib_dir: Path):
        self.root = Path(tempfile.mkdtemp(prefix="emlib-grader-"))
        os.chmod(self.root, 0o700)
        self.snapshot = self.root / "snapshot"
        shutil.copytree(emlib_dir, self.snapshot / "emlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        compileall.compile_dir(str(self.snapshot), quiet=1, workers=1)
        for path in [self.snapshot, *self.snapshot.rglob("*")]:
            mode = 0o555 if path.is_dir() else 0o444
            os.chmod(path, mode)
        os.chmod(self.snapshot, 0o555)
        self.count = 0
        self._lock = threading.Lock()

    def new(self) -> Path:
        with self._lock:
            self.count += 1
            sub = self.root / f"s{self.count:04d}"
        (sub / "box").mkdir(parents=True)
        (sub / "out").mkdir()
        os.chmod(sub / "out", 0o700)
        return sub

    def close(self) -> None:
        if os.environ.get("EMLIB_GRADE_KEEP"):          # for debugging the grader itself
            print(f"kept {self.root}", file=sys.stderr)
            return
        for path in self.root.rglob("*"):
            try:
                if path.is_dir() and not path.is_symlink():
                    os.chmod(path, 0o700)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def _font_cache() -> list[Path]:
    try:
        import matplotlib

        return sorted(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))
    except Exception:  # noqa: BLE001 - only a speed-up
        return []


def _exposed(hidden: list[str]) -> list[str]:
    """The Python environment, where it lies inside a hidden folder (bound back read-only)."""
    candidates = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                os.path.dirname(os.path.realpath(sys.executable)))}
    out = []
    for path in sorted(candidates):
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
            out.append(path)
    return out


def run(sub: Path, workspace: Workspace, notebook_bytes: bytes, tasks: list[str], payload: dict, arrays: dict,
        settings: Settings, mode: str) -> dict:
    """Run one submission; returns ``{"jail": ..., "status": ..., "outbox": path}`` (all plain data)."""
    box, outbox = sub / "box", sub / "out"
    jailed = mode in ("root", "user")
    inner = JAIL_BOX if jailed else str(box)
    n_tasks = max(1, len(tasks))
    budget = 2 * settings.notebook_timeout + n_tasks * settings.task_timeout
    (box / "submission.ipynb").write_bytes(notebook_bytes)
    wire.write(str(box / "inputs"), payload, arrays)
    (box / "job.json").write_text(json.dumps({
        "tasks": tasks, "inputs": f"{inner}/inputs", "answers": f"{inner}/answers", "budget": budget,
        "notebook_timeout": settings.notebook_timeout, "task_timeout": settings.task_timeout}))
    for font in _font_cache():
        shutil.copy(font, box / font.name)
    wall = budget + 60
    lim = settings.limits
    limits = {"memory_bytes": lim.memory_bytes, "processes": lim.processes, "file_bytes": lim.file_bytes,
              "cpu_seconds": int(min(lim.cpu_seconds, wall)), "open_files": lim.open_files}
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TERM")}
    env.setdefault("PATH", "/usr/bin:/bin")
    log = sub / "sandbox.log"
    if jailed:
        hidden = sorted({os.path.realpath(p) for p in settings.hide if p and os.path.isdir(p)})
        config = {"box_source": str(box), "outbox": str(outbox), "snapshot": str(workspace.snapshot),
                  "hide": hidden, "expose": _exposed(hidden), "uid": SANDBOX_UID if mode == "root" else None,
                  "gid": SANDBOX_GID if mode == "root" else None, "limits": limits, "tmpfs_mb": lim.tmpfs_mb,
                  "wall_seconds": wall, "python": sys.executable, "env": env}
        (sub / "jail-config.json").write_text(json.dumps(config))
        cmd = (["unshare", "--user", "--map-root-user"] if mode == "user" else []) + UNSHARE
        cmd += [sys.executable, "-I", "-S", str(Path(__file__).with_name("jail.py")), str(sub / "jail-config.json")]
    else:
        (box / "answers").mkdir()
        for sub_dir in ("tmp", "home"):
            (box / sub_dir).mkdir()
        env.update(HOME=str(box / "home"), TMPDIR=str(box / "tmp"), PYTHONPATH=str(workspace.snapshot),
                   MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
                   JUPYTER_RUNTIME_DIR=str(box / "home" / "runtime"), IPYTHONDIR=str(box / "home" / "ipython"))
        cmd = [sys.executable, "-m", "emlib.course.grading.worker", str(box)]

    def limit():
        for name, value in (("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_FSIZE", limits["file_bytes"]),
                            ("RLIMIT_CPU", limits["cpu_seconds"]), ("RLIMIT_CORE", 0)):
            resource.setrlimit(getattr(resource, name), (value, value))

    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=str(sub), env=env if not jailed else dict(os.environ),
                                preexec_fn=None if jailed else limit)
        try:
            proc.wait(timeout=wall + 30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    result: dict = {"outbox": str(outbox if jailed else box / "answers"), "mode": mode}
    if jailed:
        try:
            result["jail"] = wire.read_json(outbox / "jail.json", 100_000)
        except wire.WireError as exc:
            tail = log.read_text(errors="replace")[-400:].strip()
            result["jail"] = {"error": f"the sandbox did not report ({exc}); {tail}"}
        status_path = outbox / "status.json"
    else:
        result["jail"] = {"exit": proc.returncode}
        status_path = box / "status.json"
    try:
        result["status"] = wire.read_json(status_path, 1_000_000)
        if not isinstance(result["status"], dict):
            raise wire.WireError("not an object")
    except (wire.WireError, ValueError) as exc:
        result["status"] = {"problem": str(exc)[:200]}
    return result


def file_digest(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
