"""The sandbox's first process: set up the view of the file system, drop privileges, run, clean up.

    unshare --pid --fork --kill-child --mount-proc --mount --net --ipc --uts \\
        python -I -S jail.py CONFIG.json

Runs as PID 1 of a fresh PID namespace, in fresh mount, network, IPC and UTS
namespaces (with ``--user --map-root-user`` as well when the instructor is
not root). Standard library only: it runs before, and apart from, anything
the student wrote. In order:

1. hide: an empty read-only tmpfs over the course tree, the grader's own
   emlib, every submissions folder and the grades folder; a fresh
   size-limited tmpfs over ``/tmp`` (so the grader's work folders and other
   submissions are gone too); only the Python environment is bound back,
   read-only, where it sits inside a hidden folder;
2. mount the emlib snapshot read-only at ``/tmp/emlib-snapshot`` and create
   the throwaway folder ``/tmp/box`` (the notebook, the inputs, its own
   TMPDIR and HOME), owned by the sandbox user;
3. bring up the loopback interface (the kernel talks to the worker over it;
   there is no other network);
4. start the worker as the unprivileged user (``nobody``; never root),
   without new privileges, under limits on address space, processes, file
   size, CPU time and open files;
5. wait for it, at most the wall-clock budget; then kill every process left
   in the namespace (daemons started with ``setsid`` included: a PID
   namespace has no way out);
6. copy the answers and the status out, as regular files of capped size
   (never following a link), into the grader's outbox.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import signal
import socket
import stat
import struct
import sys
import time

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
BOX = "/tmp/box"
SNAPSHOT = "/tmp/emlib-snapshot"
ANSWER = re.compile(r"^answers-\w{1,64}\.(json|npz)$")
MAX_COPY = 210_000_000

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None) -> None:
    src = source.encode() if source else None
    typ = fstype.encode() if fstype else None
    dat = data.encode() if data else None
    if _libc.mount(src, target.encode(), typ, ctypes.c_ulong(flags), dat) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _loopback_up() -> None:
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", __import__("fcntl").ioctl(s, siocgifflags, ifr))[1]
        __import__("fcntl").ioctl(s, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b"\0" * 14))


def _set_view(cfg: dict) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = {}
    for path in [cfg["snapshot"]] + cfg["expose"]:
        keep[path] = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    hidden: list[str] = []
    for path in sorted(set(cfg["hide"]), key=len):
        if (any(_inside(path, h) for h in hidden) or not os.path.isdir(path) or _inside("/tmp", path)
                or _inside(path, "/tmp")):
            continue
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        hidden.append(path)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={cfg['tmpfs_mb']}m,mode=1777")
    for path in cfg["expose"]:
        if not any(_inside(path, h) for h in hidden + ["/tmp"]):
            continue
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{keep[path]}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for path in hidden:
        _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.makedirs(SNAPSHOT, mode=0o755)
    _mount(f"/proc/self/fd/{keep[cfg['snapshot']]}", SNAPSHOT, None, MS_BIND | MS_REC)
    _mount(None, SNAPSHOT, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for fd in keep.values():
        os.close(fd)


def _fill_box(cfg: dict, files: dict[str, bytes]) -> None:
    uid, gid = cfg["uid"], cfg["gid"]
    for sub in ("", "tmp", "home", "home/mpl", "answers"):
        path = os.path.join(BOX, sub)
        os.makedirs(path, mode=0o700, exist_ok=True)
        if uid is not None:
            os.chown(path, uid, gid)
    for name, data in files.items():
        font = name.startswith("fontlist-")          # matplotlib's font cache: saves seconds per kernel
        path = os.path.join(BOX, "home", "mpl", name) if font else os.path.join(BOX, name)
        with open(path, "wb") as fh:
            fh.write(data)
        if font and uid is not None:
            os.chown(path, uid, gid)
        else:
            os.chmod(path, 0o444)            # the inputs are read-only; the folder is the student's


def _child(cfg: dict) -> None:
    lim = cfg["limits"]
    limits = [("RLIMIT_AS", lim["memory_bytes"]), ("RLIMIT_FSIZE", lim["file_bytes"]),
              ("RLIMIT_CPU", lim["cpu_seconds"]), ("RLIMIT_NOFILE", lim["open_files"]), ("RLIMIT_CORE", 0)]
    if cfg["uid"] is not None:           # counted per user: only meaningful for the sandbox's own user
        limits.append(("RLIMIT_NPROC", lim["processes"]))
    for name, value in limits:
        resource.setrlimit(getattr(resource, name), (value, value))
    if cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["gid"])
        os.setuid(cfg["uid"])
        if os.getuid() == 0 or os.geteuid() == 0:
            os._exit(99)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        os._exit(98)
    os.chdir(BOX)
    env = dict(cfg["env"], HOME=f"{BOX}/home", TMPDIR=f"{BOX}/tmp", PYTHONPATH=SNAPSHOT, USER="nobody",
               JUPYTER_RUNTIME_DIR=f"{BOX}/home/runtime", IPYTHONDIR=f"{BOX}/home/ipython",
               MPLCONFIGDIR=f"{BOX}/home/mpl", JUPYTER_DATA_DIR=f"{BOX}/home/data", MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    os.execve(cfg["python"], [cfg["python"], "-m", "emlib.course.grading.worker", BOX], env)


def _count_others() -> int:
    return sum(1 for p in os.listdir("/proc") if p.isdigit() and p != "1")


def _copy_out(outbox_fd: int) -> list[str]:
    copied, total = [], 0
    names = [("", "status.json")]
    try:
        names += [("answers", n) for n in sorted(os.listdir(os.path.join(BOX, "answers"))) if ANSWER.match(n)]
    except OSError:
        pass
    for sub, name in names:
        try:
            fd = os.open(os.path.join(BOX, sub, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or total + info.st_size > MAX_COPY:
                continue
            total += info.st_size
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=outbox_fd)
            try:
                while chunk := os.read(fd, 1 << 20):
                    os.write(out, chunk)
            finally:
                os.close(out)
            copied.append(name)
        finally:
            os.close(fd)
    return copied


def main(config_path: str) -> int:
    with open(config_path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    files = {}
    for name in os.listdir(cfg["box_source"]):
        with open(os.path.join(cfg["box_source"], name), "rb") as fh:
            files[name] = fh.read()
    outbox_fd = os.open(cfg["outbox"], os.O_RDONLY | os.O_DIRECTORY)
    report: dict = {"started": False}

    def finish() -> int:
        data = json.dumps(report).encode()
        out = os.open("jail.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=outbox_fd)
        os.write(out, data)
        os.close(out)
        return 0

    try:
        _set_view(cfg)
        _fill_box(cfg, files)
        _loopback_up()
    except OSError as exc:
        report["error"] = f"the sandbox could not be set up: {exc}"
        return finish()
    pid = os.fork()
    if pid == 0:
        try:
            _child(cfg)
        finally:
            os._exit(97)
    report["started"] = True
    deadline = time.monotonic() + cfg["wall_seconds"]
    status = None
    while time.monotonic() < deadline:
        try:
            done, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if done == pid:
            status = code
            break
        if done == 0:
            time.sleep(0.05)
    report["wall_exceeded"] = status is None
    report["exit"] = (None if status is None else os.waitstatus_to_exitcode(status))
    report["left_behind"] = _count_others() - (1 if status is None else 0)
    try:
        os.kill(-1, signal.SIGKILL)       # PID 1 of a PID namespace: every other process in it
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    report["copied"] = _copy_out(outbox_fd)
    return finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
