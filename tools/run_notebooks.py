"""Re-execute notebooks top to bottom in a fresh kernel and store their outputs.

    python tools/run_notebooks.py                       # every notebook in notebooks/ and solutions/
    python tools/run_notebooks.py notebooks/04_*.ipynb  # some of them

Each notebook runs in its own directory, as JupyterLab would run it. Widget
state is not stored (it is only a static snapshot of live controls and would
bloat the file); the outputs are what nbval later compares. Lecture notebooks
get their slide metadata from tools/slides.py again. A notebook that
raises stops the run with its error, unless the cell is tagged
``raises-exception``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slides  # noqa: E402  (tools/slides.py: the lecture notebooks' slide metadata)

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # store_widget_state stays on: nbclient's Output-widget hook needs it (it
    # fails with a KeyError otherwise); the state is dropped below instead.
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    if path.resolve().parent == slides.LECTURES:
        slides.assign(nb, path)      # slide metadata in step with the cells
    nbformat.write(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    for path in paths:
        seconds = run(path)
        size = path.stat().st_size / 1e3
        print(f"{path.relative_to(ROOT) if path.is_absolute() else path}: {seconds:5.1f} s, {size:6.0f} KB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
