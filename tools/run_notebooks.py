"""Re-execute notebooks top to bottom in a fresh kernel and store their outputs.

    python tools/run_notebooks.py                       # every notebook in notebooks/ and solutions/
    python tools/run_notebooks.py notebooks/04_*.ipynb  # some of them
    python tools/run_notebooks.py --strip PATHS         # only drop execution timestamps (pre-commit)

Each notebook runs in its own directory, as JupyterLab would run it. Widget
state is not stored (it is only a static snapshot of live controls and would
bloat the file); the outputs are what nbval later compares. Lecture notebooks
get their slide metadata from tools/slides.py again. A notebook that
raises stops the run with its error, unless the cell is tagged
``raises-exception``.

No execution timestamps are stored (they would change every diff), and the
notebook's metadata records what produced its outputs, under
``metadata["emlib"]["executed_with"]``: Python and the versions of the packages
that shape the outputs (``RECORDED``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slides  # noqa: E402  (tools/slides.py: the lecture notebooks' slide metadata)

ROOT = Path(__file__).resolve().parents[1]

# The distributions whose versions shape the stored outputs (numbers, figures, reprs).
RECORDED = ("emlib", "numpy", "scipy", "matplotlib", "pillow", "scikit-learn", "scikit-image",
            "ipykernel", "ipython", "ipywidgets", "nbformat")
# Cell metadata that only says when a cell ran: nbclient's record_timing and the ExecuteTime extension.
TIMING_KEYS = ("execution", "ExecuteTime")


def executed_with() -> dict:
    """Python and the installed version of each of ``RECORDED`` (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in RECORDED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def strip_timestamps(nb) -> bool:
    """Remove execution timestamps from every cell; True if anything was removed."""
    changed = False
    for cell in nb.cells:
        for key in TIMING_KEYS:
            if key in cell.get("metadata", {}):
                del cell.metadata[key]
                changed = True
    return changed


def run(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # store_widget_state stays on: nbclient's Output-widget hook needs it (it
    # fails with a KeyError otherwise); the state is dropped below instead.
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    strip_timestamps(nb)
    nb.metadata.setdefault("emlib", {})["executed_with"] = executed_with()
    if path.resolve().parent == slides.LECTURES:
        slides.assign(nb, path)      # slide metadata in step with the cells
    nbformat.write(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--strip", action="store_true",
                        help="execute nothing: only remove execution timestamps, in place")
    args = parser.parse_args(argv)
    if args.strip:
        for path in args.paths:
            nb = nbformat.read(path, as_version=4)
            if strip_timestamps(nb):
                nbformat.write(nb, path)
                print(f"{path}: execution timestamps removed")
        return 0
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    for path in paths:
        seconds = run(path)
        size = path.stat().st_size / 1e3
        print(f"{path.relative_to(ROOT) if path.is_absolute() else path}: {seconds:5.1f} s, {size:6.0f} KB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
