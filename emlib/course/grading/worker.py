"""Run one submission inside the sandbox: its cells, then one answering cell per task.

    python -m emlib.course.grading.worker BOX

runs as the unprivileged sandbox user, from the read-only snapshot of emlib,
in ``BOX`` (the submission's throwaway folder). It reads ``BOX/job.json``,
executes ``BOX/submission.ipynb`` cell by cell in a fresh kernel (errors do not
stop it; output is counted and discarded), then runs, for each task, a cell
calling :func:`emlib.course.grading.harness.run_task`. A cell that overruns
its time, or a kernel that dies, costs that cell (or that task) only: the
kernel is started again, the cells that ran before are run again, and the
remaining tasks go on, within the submission's overall time budget.

It writes ``BOX/status.json`` (what happened, for the notes). Nothing it
writes is a verdict: the grader reads only the answers, as data.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

import nbformat

MAX_KERNELS = 6


def _cell_source(task: str, inputs_stem: str, out_dir: str) -> str:
    return ("__import__('emlib.course.grading.harness', fromlist=['run_task']).run_task("
            f"{task!r}, globals(), {inputs_stem!r}, {out_dir!r})")


def main(box: str) -> None:
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

    job = json.loads(open(os.path.join(box, "job.json"), encoding="utf-8").read())
    tasks: list[str] = job["tasks"]
    nb = nbformat.read(os.path.join(box, "submission.ipynb"), as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and isinstance(c.source, str)
            and c.source.strip()]
    status: dict = {"cells": len(nb.cells), "skipped": {}, "tasks": {}, "errors": [], "kernels": 0, "printed": 0}
    deadline = time.monotonic() + float(job["budget"])
    cell_budget = float(job["notebook_timeout"])
    task_budget = float(job["task_timeout"])
    pending = list(tasks)
    # The grading inputs leave the folder while the notebook runs and come back only for the
    # answering cells, so no cell can read them in advance (a background process still could,
    # later: the inputs are not a secret, the seed they came from is).
    held = {}
    for ext in (".json", ".npz"):
        path = job["inputs"] + ext
        with open(path, "rb") as fh:
            held[path] = fh.read()
        os.remove(path)

    def release():
        for path, data in held.items():
            if not os.path.exists(path):
                with open(path, "wb") as fh:
                    fh.write(data)

    def save():
        status["printed"] = printed
        with open(os.path.join(box, "status.json.part"), "w", encoding="utf-8") as fh:
            json.dump(status, fh)
        os.replace(os.path.join(box, "status.json.part"), os.path.join(box, "status.json"))

    printed = 0
    env = dict(os.environ)
    while pending and status["kernels"] < MAX_KERNELS and time.monotonic() < deadline:
        status["kernels"] += 1
        client = DiscardingClient(nb, kernel_name="python3", allow_errors=True, interrupt_on_timeout=False,
                                  shutdown_kernel="immediate", record_timing=False, iopub_timeout=10,
                                  resources={"metadata": {"path": box}})
        stage = "start"
        try:
            with client.setup_kernel(env=env, cwd=box):
                notebook_end = min(deadline, time.monotonic() + cell_budget)
                for index in code:
                    if str(index) in status["skipped"]:
                        continue
                    cell = nb.cells[index]
                    stage = ("cell", index)
                    remaining = notebook_end - time.monotonic()
                    if remaining <= 0:
                        status["skipped"][str(index)] = ["timeout", cell.source.strip().split("\n")[0][:60]]
                        continue
                    client.timeout = max(1, math.ceil(remaining))
                    cell.outputs = []
                    client.execute_cell(cell, index)
                    for out in cell.get("outputs", []):
                        if out.get("output_type") == "error" and len(status["errors"]) < 5:
                            line = f"cell {index + 1} raised {out.get('ename')}: {str(out.get('evalue', ''))[:120]}"
                            if line not in status["errors"]:
                                status["errors"].append(line)
                release()
                while pending:
                    task = pending[0]
                    stage = ("task", task)
                    remaining = deadline - time.monotonic()
                    if remaining <= 1:
                        break
                    cell = nbformat.v4.new_code_cell(_cell_source(task, job["inputs"], job["answers"]))
                    client.timeout = max(1, math.ceil(min(task_budget, remaining)))
                    nb.cells.append(cell)
                    try:
                        client.execute_cell(cell, len(nb.cells) - 1)
                    finally:
                        nb.cells.pop()
                    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                    status["tasks"][task] = (["error", f"{errors[0].get('ename')}: {errors[0].get('evalue', '')}"[:200]]
                                             if errors else ["answered"])
                    pending.pop(0)
                    save()
        except (CellTimeoutError, DeadKernelError, Exception) as exc:  # noqa: BLE001 - reported, never raised
            kind = ("timeout" if isinstance(exc, CellTimeoutError) else
                    "kernel died" if isinstance(exc, DeadKernelError) else f"error {type(exc).__name__}")
            if stage == "start":
                status["errors"].append(f"the kernel could not start: {type(exc).__name__}: {str(exc)[:200]}")
                break
            if stage[0] == "cell":
                status["skipped"][str(stage[1])] = [kind, nb.cells[stage[1]].source.strip().split("\n")[0][:60]]
            else:
                status["tasks"][stage[1]] = [kind]
                pending.pop(0)
        printed += client.printed
        save()
    for task in pending:
        status["tasks"].setdefault(task, ["not run: the time budget was used up"])
    save()


if __name__ == "__main__":
    main(sys.argv[1])
