"""The kernel side of grading: call the student's function on the grading inputs and write the answers.

This module runs inside the student's kernel (after the notebook's own cells),
from the read-only snapshot of emlib. It judges nothing: it reads the inputs
the grader wrote (plain data), calls the function of each task on every case,
and writes what came back (or what was raised) as plain data, together with
the emlib functions that ran while the student's function ran (recorded by a
profile hook). Everything it writes is the student's answer, never a verdict:
the grader compares the answers with its own reference in another process.

A student who replaces this module, its hook or its output file changes only
their own answers; the grader still compares them with the reference on inputs
drawn from a seed the kernel never saw.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

from . import wire

_HERE = os.path.dirname(os.path.abspath(__file__))
_EMLIB = os.path.dirname(os.path.dirname(_HERE))
_OWN = {os.path.join(_HERE, "harness.py"), os.path.join(_HERE, "wire.py")}
MAX_CALLS_RECORDED = 200


def _watched_prefixes() -> tuple[str, ...]:
    """Files whose functions are recorded when the student's code calls into them."""
    prefixes = [_EMLIB + os.sep]
    for module, sub in (("scipy", ("special", "_logsumexp.py")), ("scipy", ("stats", "_multivariate.py")),
                        ("sklearn", ("mixture",))):
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = __import__(module)
            except Exception:  # noqa: BLE001 - a library that is not installed is not watched
                continue
        prefixes.append(os.path.join(os.path.dirname(mod.__file__), *sub))
    return tuple(prefixes)


class Recorder:
    """A profile hook that records every watched function entered from outside the watched code."""

    def __init__(self, prefixes: tuple[str, ...]):
        self.prefixes = prefixes
        self.calls: dict[str, int] = {}

    def _watched(self, filename: str) -> bool:
        return filename.startswith(self.prefixes) and filename not in _OWN

    def hook(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if not self._watched(code.co_filename):
            return
        caller = frame.f_back
        if caller is not None and self._watched(caller.f_code.co_filename):
            return
        name = f"{frame.f_globals.get('__name__', '?')}.{getattr(code, 'co_qualname', code.co_name)}"
        if name in self.calls or len(self.calls) < MAX_CALLS_RECORDED:
            self.calls[name] = self.calls.get(name, 0) + 1


def _rebuild(cls: str, attrs: dict):
    """A Mixture sent by the grader becomes an emlib.Mixture again; anything else stays a record."""
    if cls.endswith("Mixture") and {"weights", "means", "covariances"} <= set(attrs):
        from emlib.mixture import Mixture

        return Mixture(attrs["weights"], attrs["means"], attrs["covariances"])
    return wire.RecordedObject(cls, attrs)


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_EMLIB + os.sep)]
    if not frames:
        return ""
    f = frames[-1]
    return f"line {f.lineno}: {f.line}" if f.line else f"line {f.lineno}"


def run_task(task: str, namespace: dict, inputs_stem: str, out_dir: str) -> None:
    """Answer every case of ``task`` with ``namespace[task]``; write ``out_dir/answers-<task>.{json,npz}``."""
    payload = wire.read_json(inputs_stem + ".json")
    arrays = wire.read_arrays(inputs_stem + ".npz")
    cases = payload["tasks"].get(task, [])
    enc = wire.Encoder()
    record: dict = {"task": task, "answers": {}, "calls": {}, "notes": [], "seconds": 0.0}
    fn = namespace.get(task)
    if fn is None:
        record["notes"].append("undefined")
    elif not callable(fn):
        record["notes"].append(f"not callable: {type(fn).__name__}")
    else:
        module = getattr(fn, "__module__", None) or ""
        if module.split(".")[0] in ("emlib", "scipy", "sklearn"):
            record["notes"].append(f"is {module}.{getattr(fn, '__qualname__', '?')} itself")
        recorder = Recorder(_watched_prefixes())
        hook = recorder.hook                      # one bound method, so that `is` can recognise it
        start = time.perf_counter()
        for case in cases:
            try:
                args = [wire.decode(a, arrays, _rebuild) for a in case["args"]]
            except Exception as exc:  # noqa: BLE001 - reported; a bug of the grader, not the student's
                record["answers"][case["key"]] = {"raised": "GraderInputError", "message": str(exc)[:300], "line": ""}
                continue
            previous = sys.getprofile()
            threading.setprofile(hook)
            sys.setprofile(hook)
            try:
                out = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt and SystemExit included
                hooked = sys.getprofile() is hook
                sys.setprofile(previous)
                threading.setprofile(None)
                try:
                    message = str(exc)[:500]
                except BaseException:  # noqa: BLE001 - an exception whose str() raises
                    message = "(its message could not be shown)"
                record["answers"][case["key"]] = {"raised": type(exc).__name__[:100], "message": message,
                                                  "line": _where(exc)[:300]}
            else:
                hooked = sys.getprofile() is hook
                sys.setprofile(previous)
                threading.setprofile(None)
                try:
                    record["answers"][case["key"]] = {"ok": enc.encode(out)}
                except BaseException as exc:  # noqa: BLE001 - an answer that cannot be written down
                    record["answers"][case["key"]] = {"raised": "UnreadableAnswer",
                                                      "message": f"{type(exc).__name__}", "line": ""}
            if not hooked and "profile hook removed" not in record["notes"]:
                record["notes"].append("profile hook removed")
        record["seconds"] = round(time.perf_counter() - start, 3)
        record["calls"] = dict(recorder.calls)
    os.makedirs(out_dir, exist_ok=True)
    wire.write(os.path.join(out_dir, f"answers-{task}"), record, enc.arrays)
