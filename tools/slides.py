"""Lecture mode: slide metadata for the lecture notebooks, and offline reveal.js decks.

    python tools/slides.py             # write the slide metadata into notebooks/*.ipynb
    python tools/slides.py --check     # exit 1, naming each cell, if any notebook differs from the rules
    python tools/slides.py --build     # render the decks into site/slides/ (reveal.js from npm, no CDN)

Each cell's ``metadata.slideshow.slide_type`` is chosen by the rules below, the
same way every time, so that the notebook presents well both live in JupyterLab
(the ``jupyterlab-rise`` extension: open a notebook and press Alt+R) and as a
static deck (``make slides``). Where the rules choose badly for one cell, the
override table ``OVERRIDES`` below says what to use instead.

The rules, in order (first match wins):

1. a markdown cell starting with a level-1 or level-2 heading   -> "slide"
   (a new section: left/right arrows move between sections);
   level-3 heading                                               -> "subslide"
   (a new page below its section: up/down arrows);
2. a code cell without outputs that imports something (the set-up cell)
                                                                 -> "skip";
3. the cell right after a short markdown cell ending with ":" (which
   introduces it) stays on that cell's page                      -> "-"
   (and the introducing cell starts a new page if the two do not fit);
4. a code cell without outputs and more than ``LONG_CODE`` lines (helper
   definitions: the audience needs their results, not their text)
                                                                 -> "notes";
5. a widget cell (tagged ``nbval-ignore-output`` and showing a widget)
                                                                 -> "subslide"
   (a page of its own for the live demonstration);
6. a cell that would overflow the page it is on (estimated height above
   ``PAGE_LINES``)                                               -> "subslide";
7. a short markdown cell right after a code cell's output (the conclusion drawn
   from it)                                                      -> "fragment";
8. anything else                                                 -> "-" (continues the page).

The notebook's ``metadata.rise`` turns on scrolling, so a page that is still
taller than the screen scrolls instead of being cut off.
"""

from __future__ import annotations

import argparse
import ast
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "notebooks"
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")

PAGE_LINES = 24
"""The estimated number of text lines that fit on one page of a deck."""
LONG_CODE = 15
"""Code cells longer than this without outputs go to the speaker notes."""
LINE_WIDTH = 90
"""Characters per line when estimating the height of long lines."""
IMAGE_LINES = 14
"""The height of a figure, in text lines."""
FRAGMENT_LINES = 4
"""The longest markdown cell that appears as a fragment after an output."""
INTRO_LINES = 6
"""The longest markdown cell ending in ':' that is kept on one page with the cell it introduces."""

RISE_SETTINGS = {"scroll": True, "theme": "white", "transition": "none", "enable_chalkboard": False}
"""Notebook-level settings of jupyterlab-rise (metadata.rise)."""

OVERRIDES: dict[str, dict[str, str]] = {
    # "notebooks/NN_name.ipynb": {"the first characters of a cell's source": "slide type"},
    # Each key must match the start of exactly one cell (``--check`` fails otherwise).
    # Below: a sentence that introduces the next cell without ending in ':' would become a
    # fragment under the previous output, away from what it introduces; keep the two together.
    "notebooks/03_mixture_likelihood.ipynb": {
        "Our running example: 200 samples": "subslide",
        "SIGMA2 = 1.0": "-",
    },
    "notebooks/04_em_algorithm.ipynb": {
        "A numerical check that no other feasible": "subslide",
        "rho_star = update_weights(resp)": "-",
    },
}
"""Per-notebook corrections where the rules choose badly."""

# The reveal.js deck's assets, from the npm registry (exact versions: the decks are tested with these).
NPM_PACKAGES = {"reveal.js": "4.6.1", "requirejs": "2.3.7", "jquery": "3.7.1"}


# --- the rules ------------------------------------------------------------------------------
def heading_level(source: str) -> int:
    """The level of the markdown heading the cell starts with (0 for none)."""
    for line in source.splitlines():
        if line.strip():
            match = re.match(r"^(#{1,6})\s", line)
            return len(match.group(1)) if match else 0
    return 0


def _lines(text: str) -> int:
    return sum(max(1, math.ceil(len(line) / LINE_WIDTH)) for line in text.splitlines())


def output_height(output) -> int:
    """The estimated height of one output, in text lines."""
    if output.get("output_type") == "stream":
        return _lines(output.get("text", ""))
    data = output.get("data", {})
    if any(key.startswith("image/") for key in data):
        return IMAGE_LINES
    if output.get("output_type") == "error":
        return len(output.get("traceback", []))
    if "text/plain" in data:
        return _lines(data["text/plain"])
    return 1


def cell_height(cell) -> int:
    """The estimated height of a cell on a page (input and outputs), in text lines."""
    height = _lines(cell.source)
    if cell.cell_type == "code":
        height += sum(output_height(o) for o in cell.get("outputs", []))
    return height


def is_setup(cell) -> bool:
    """A code cell without outputs that imports something: the notebook's set-up."""
    if cell.cell_type != "code" or cell.get("outputs"):
        return False
    source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body)


def is_widget(cell) -> bool:
    """A cell that shows an ipywidget (the CONTRIBUTING tag nbval-ignore-output and a widget output)."""
    if cell.cell_type != "code" or "nbval-ignore-output" not in cell.metadata.get("tags", []):
        return False
    shows_widget = any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                       for o in cell.get("outputs", []))
    return shows_widget or bool(re.search(r"Explorer\(|widgets\.|interact", cell.source))


def is_intro(cell) -> bool:
    """A short markdown cell that ends with a colon: it introduces the cell after it."""
    return (cell.cell_type == "markdown" and heading_level(cell.source) == 0
            and cell.source.rstrip().endswith(":") and cell_height(cell) <= INTRO_LINES)


def rule_types(nb, fixed: dict[int, str] | None = None) -> list[str]:
    """The slide type of every cell by the rules (see the module docstring).

    ``fixed`` maps cell indices to slide types that replace the rules' choice; the
    pages after such a cell are laid out from the fixed choice.
    """
    fixed = fixed or {}
    types = []
    page = 0            # the estimated height of the page being filled
    previous = None     # the previous cell that is shown on the page
    cells = nb.cells
    for i, cell in enumerate(cells):
        height = cell_height(cell)
        level = heading_level(cell.source) if cell.cell_type == "markdown" else 0
        introduced = previous is not None and is_intro(previous) and types[-1] in ("-", "subslide")
        if i in fixed:
            kind = fixed[i]
        elif level in (1, 2):
            kind = "slide"
        elif level == 3:
            kind = "subslide"
        elif is_setup(cell):
            kind = "skip"
        elif introduced:
            kind = "-"
        elif is_intro(cell):
            following = cell_height(cells[i + 1]) if i + 1 < len(cells) else 0
            kind = "subslide" if page > 0 and page + height + following > PAGE_LINES else "-"
        elif cell.cell_type == "code" and not cell.get("outputs") and len(cell.source.splitlines()) > LONG_CODE:
            kind = "notes"
        elif is_widget(cell):
            kind = "subslide"
        elif page > 0 and page + height > PAGE_LINES:
            kind = "subslide"
        elif (cell.cell_type == "markdown" and previous is not None and previous.cell_type == "code"
              and previous.get("outputs") and height <= FRAGMENT_LINES):
            kind = "fragment"
        else:
            kind = "-"
        types.append(kind)
        if kind in ("slide", "subslide"):
            page = height
        elif kind in ("-", "fragment"):
            page += height
        if kind not in ("skip", "notes"):
            previous = cell
    return types


def _relative(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def slide_types(nb, path: Path) -> list[str]:
    """The rules' slide types with this notebook's overrides applied.

    Raises ValueError if an override matches no cell or more than one, or names an unknown type.
    """
    fixed = {}
    for prefix, kind in OVERRIDES.get(_relative(path), {}).items():
        if kind not in SLIDE_TYPES:
            raise ValueError(f"{_relative(path)}: override {prefix!r} -> {kind!r}: "
                             f"slide type must be one of {SLIDE_TYPES}")
        hits = [i for i, cell in enumerate(nb.cells) if cell.source.startswith(prefix)]
        if len(hits) != 1:
            raise ValueError(f"{_relative(path)}: override {prefix!r} matches {len(hits)} cells, expected 1; "
                             "update OVERRIDES in tools/slides.py")
        fixed[hits[0]] = kind
    return rule_types(nb, fixed)


# --- reading and writing metadata -------------------------------------------------------------
def problems(path: Path) -> list[str]:
    """What differs between the notebook's stored slide metadata and the rules (empty when in step)."""
    nb = nbformat.read(path, as_version=4)
    try:
        wanted = slide_types(nb, path)
    except ValueError as exc:
        return [str(exc)]
    found = []
    for i, (cell, kind) in enumerate(zip(nb.cells, wanted)):
        stored = cell.metadata.get("slideshow", {}).get("slide_type")
        if stored != kind:
            first = cell.source.strip().splitlines()[0][:50] if cell.source.strip() else ""
            found.append(f"{_relative(path)} cell {i} ({first!r}): slide_type {stored!r}, the rules say {kind!r}")
    if wanted and wanted[0] != "slide":
        found.append(f"{_relative(path)}: the first cell must start a slide, got {wanted[0]!r}")
    if nb.metadata.get("rise") != RISE_SETTINGS:
        found.append(f"{_relative(path)}: metadata.rise is {nb.metadata.get('rise')!r}, expected {RISE_SETTINGS!r}")
    return found


def assign(nb, path: Path) -> bool:
    """Set the slide metadata of an in-memory notebook (read from ``path``); True if anything changed.

    tools/run_notebooks.py can call this after executing a lecture notebook, so that
    ``make notebooks`` keeps the metadata in step with the rules.
    """
    changed = False
    for cell, kind in zip(nb.cells, slide_types(nb, path)):
        if cell.metadata.get("slideshow", {}).get("slide_type") != kind:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
            changed = True
    if nb.metadata.get("rise") != RISE_SETTINGS:
        nb.metadata["rise"] = dict(RISE_SETTINGS)
        changed = True
    return changed


def apply(path: Path) -> bool:
    """Write the slide metadata into the notebook file; touch nothing else. True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    changed = assign(nb, path)
    if changed:
        nbformat.write(nb, path)
    return changed


def lecture_notebooks() -> list[Path]:
    return sorted(LECTURES.glob("*.ipynb"))


# --- decks --------------------------------------------------------------------------------------
def npm_assets(build: Path) -> Path:
    """Install reveal.js, require.js and jQuery from the npm registry into build/npm (once); return node_modules."""
    modules = build / "npm" / "node_modules"
    wanted = [f"{name}@{version}" for name, version in NPM_PACKAGES.items()]
    have = all((modules / name / "package.json").is_file()
               and f'"version": "{version}"' in (modules / name / "package.json").read_text()
               for name, version in NPM_PACKAGES.items())
    if not have:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed once to fetch reveal.js for the decks: install Node.js "
                               "(e.g. apt-get install -y npm)")
        (build / "npm").mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(build / "npm"), "--cache", str(build / "npm" / "cache"),
                        "--no-save", "--no-package-lock",
                        "--no-audit", "--no-fund", "--loglevel=error", *wanted], check=True)
    return modules


def copy_deck_assets(modules: Path, slides: Path) -> None:
    """reveal.js (dist/ and plugin/), require.js and jQuery beside the decks."""
    reveal = slides / "reveal.js"
    for part in ("dist", "plugin"):
        shutil.rmtree(reveal / part, ignore_errors=True)
        shutil.copytree(modules / "reveal.js" / part, reveal / part)
    shutil.copy2(modules / "reveal.js" / "LICENSE", reveal / "LICENSE")
    lib = slides / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    shutil.copy2(modules / "requirejs" / "require.js", lib / "require.js")
    shutil.copy2(modules / "jquery" / "dist" / "jquery.min.js", lib / "jquery.min.js")


def build_decks(site: Path, build: Path, notebooks: list[Path] | None = None) -> list[Path]:
    """Render each lecture notebook (its stored outputs) to site/slides/NAME.slides.html; return the decks."""
    sys.path.insert(0, str(Path(__file__).parent))
    import build_site                       # the shared exporter set-up and link rewriting

    slides = site / "slides"
    slides.mkdir(parents=True, exist_ok=True)
    copy_deck_assets(npm_assets(build), slides)
    build_site.copy_mathjax(site)
    notebooks = notebooks or lecture_notebooks()
    exporter = build_site.deck_exporter(mathjax_url="../" + build_site.MATHJAX_URL)
    decks = []
    for path in notebooks:
        nb = build_site.read_for_export(path)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": build_site.title_of(nb, path)}})
        out = slides / f"{path.stem}.slides.html"
        out.write_text(build_site.rewrite_links(body, path, out, site, deck=True), encoding="utf-8")
        decks.append(out)
    return decks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="lecture notebooks (default: notebooks/*.ipynb)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="report cells whose metadata differs; write nothing")
    group.add_argument("--build", action="store_true", help="render the decks into SITE/slides")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the site folder (default: site/)")
    args = parser.parse_args(argv)
    paths = args.paths or lecture_notebooks()
    if args.check:
        found = [problem for path in paths for problem in problems(path)]
        for problem in found:
            print(problem)
        if found:
            print(f"{len(found)} slide-metadata problem(s): run  .venv/bin/python tools/slides.py  to fix")
            return 1
        print(f"slide metadata in step with the rules in {len(paths)} notebooks")
        return 0
    if args.build:
        decks = build_decks(args.site, ROOT / "build", args.paths or None)
        print(f"{len(decks)} decks in {_relative(args.site / 'slides')}/")
        return 0
    for path in paths:
        if apply(path):
            print(f"{_relative(path)}: slide metadata written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
