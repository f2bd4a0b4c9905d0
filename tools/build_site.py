"""Build the course as a static web site from the notebooks' stored outputs (nothing is executed).

    python tools/build_site.py              # site/index.html, site/notebooks/*.html, ...
    python tools/build_site.py --site DIR   # somewhere else

The pages are nbconvert's own HTML (the JupyterLab look) from a small template in
tools/site_templates/ that adds a navigation bar and loads nothing from the
network: MathJax comes from the ``jupyter-server-mathjax`` package and is
copied into site/static/mathjax/. The site holds

- ``index.html``: the course in order (lectures, then the exercises with their solutions);
- ``notebooks/NN_*.html``: the lecture, with its stored outputs;
- ``exercises/NN_*.html``: the exercises as students get them (no solutions);
- ``solutions/NN_*.html``: the worked solutions, with their stored outputs;
- any Markdown file or other repository file a page links to (``exercises/README.md``
  becomes ``exercises/README.html``).

Links between notebooks (``05_why_em_works.ipynb``) point to the pages
(``05_why_em_works.html``). Widgets are live only in JupyterLab; a page says so
where a widget would be.

Each notebook's page links to the notebook itself (copied beside the page) for
download, and every page has a search box: Pagefind (the ``pagefind[bin]``
package, a binary inside a PyPI wheel) indexes the finished pages into
``site/pagefind/``, and the search runs in the reader's browser from those
files, with no server-side part and nothing fetched from the network. Browsers
refuse such fetches from ``file://`` pages, so to search, serve the folder:
``python -m http.server -d site`` and open http://127.0.0.1:8000/.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "site_templates"
FOLDERS = ("notebooks", "exercises", "solutions")
MATHJAX_URL = "static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
"""Where the pages load MathJax from, relative to the site's root."""
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A link whose tag says ``download`` right before it is a file to save, never rewritten to a page.
LINK = re.compile(r'(?P<download>\bdownload(?:="")?\s+)?(?P<attr>\b(?:href|src))="(?P<url>[^"#?]*)(?P<rest>[#?][^"]*)?"')
SEARCH_DIR = "pagefind"
"""Pagefind's index and search UI, relative to the site's root."""


# --- shared with tools/slides.py ------------------------------------------------------------
def copy_mathjax(site: Path) -> Path:
    """Copy MathJax 2 (from the jupyter-server-mathjax package) into site/static/mathjax, once."""
    import jupyter_server_mathjax

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = site / "static" / "mathjax"
    if not (target / "MathJax.js").is_file():
        shutil.copytree(source, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("localization", "*.md"))
    return target


def title_of(nb, path: Path) -> str:
    """The notebook's first level-1 heading, without Markdown markup (the file name if it has none)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, re.M)
            if match:
                return re.sub(r"[*_`$]", "", match.group(1))
    return path.stem.replace("_", " ")


def read_for_export(path: Path):
    """The notebook as stored, made ready for a static page: widget views become a short note."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:     # its text form is only the widget's repr: leave it out too
                output["data"] = {"text/html": '<p class="course-widget-note"><em>An interactive widget appears '
                                               'here when the notebook runs in JupyterLab.</em></p>'}
    return nb


def _config(mathjax_url: str) -> Config:
    c = Config()
    c.HTMLExporter.mathjax_url = mathjax_url
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.HTMLExporter.extra_template_paths = [str(TEMPLATES)]      # the shared macro file
    return c


def page_exporter(mathjax_url: str) -> HTMLExporter:
    return HTMLExporter(config=_config(mathjax_url), template_name="course_page")


def deck_exporter(mathjax_url: str) -> SlidesExporter:
    c = _config(mathjax_url)
    c.SlidesExporter.reveal_url_prefix = "reveal.js"
    c.SlidesExporter.reveal_scroll = True          # a page taller than the screen scrolls
    c.SlidesExporter.reveal_theme = "white"          # its font ships with reveal.js; "simple" loads web fonts
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.require_js_url = "lib/require.js"
    c.SlidesExporter.jquery_url = "lib/jquery.min.js"
    return SlidesExporter(config=c, template_name="course_deck")


def site_path(repo_file: Path, site: Path, deck: bool = False) -> Path:
    """Where a repository file appears in the site (.ipynb and .md become .html; decks .slides.html)."""
    rel = repo_file.relative_to(ROOT)
    if deck and repo_file.suffix == ".ipynb" and repo_file.parent == ROOT / "notebooks":
        return site / "slides" / f"{repo_file.stem}.slides.html"
    if repo_file.suffix in (".ipynb", ".md"):
        return site / rel.with_suffix(".html")
    return site / rel


def rewrite_links(body: str, source: Path, out: Path, site: Path, deck: bool = False,
                  wanted: set | None = None) -> str:
    """Point relative links to repository files at their pages in the site.

    ``source`` is the repository file the page was made from and ``out`` the page. A link
    whose target is not a repository file (an asset, an anchor, a web address) is left alone.
    Targets that are not pages of their own yet are added to ``wanted``.
    """
    def replace(match):
        url, rest = match.group("url"), match.group("rest") or ""
        if match.group("download") or not url or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith("/"):
            return match.group(0)
        target = (source.parent / url).resolve()
        try:
            target.relative_to(ROOT)
        except ValueError:
            return match.group(0)
        if target.suffix not in (".ipynb", ".md") and not target.is_file():
            return match.group(0)
        if wanted is not None:
            wanted.add(target)
        new = os.path.relpath(site_path(target, site, deck), out.parent)
        return f'{match.group("attr")}="{Path(new).as_posix()}{rest}"'

    return LINK.sub(replace, body)


# --- the site ---------------------------------------------------------------------------------
def course_pages() -> list[Path]:
    """The notebooks of the site in course order: lectures, exercises, solutions."""
    return [p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]


def _readme_intro() -> tuple[str, str]:
    """The README's title and first paragraph."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    title = re.search(r"^#\s+(.+)$", text, re.M)
    body = text[title.end():] if title else text
    paragraph = next((p.strip() for p in body.split("\n\n") if p.strip() and not p.lstrip().startswith("#")), "")
    return (title.group(1).strip() if title else "The course"), paragraph


def index_notebook(titles: dict[Path, str], site: Path):
    """The index page, as a notebook of Markdown cells (rendered like every other page)."""
    title, intro = _readme_intro()
    lectures = sorted((ROOT / "notebooks").glob("*.ipynb"))
    exercises = sorted((ROOT / "exercises").glob("*.ipynb"))
    lines = [f"# {title}", "", intro, "", "## Lectures", "",
             "Each page shows a notebook as it was last run; open the `.ipynb` file in JupyterLab to run it.", ""]
    for path in lectures:
        href = site_path(path, site).relative_to(site).as_posix()
        lines.append(f"1. [{titles[path]}]({href})")
    lines += ["", "## Exercises", ""]
    readme = ROOT / "exercises" / "README.md"
    if readme.is_file():
        lines += [f"How to work on them and how they are graded: [exercises/README]"
                  f"({site_path(readme, site).relative_to(site).as_posix()}).", ""]
    for path in exercises:
        href = site_path(path, site).relative_to(site).as_posix()
        solution = ROOT / "solutions" / path.name
        entry = f"1. [{titles.get(path, path.stem)}]({href})"
        if solution.is_file():
            entry += f" · [solution]({site_path(solution, site).relative_to(site).as_posix()})"
        lines.append(entry)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("\n".join(lines))]
    nb.metadata["title"] = title
    return nb


def markdown_notebook(path: Path):
    """A Markdown file as a one-cell notebook, so that it is rendered like the other pages."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(path.read_text(encoding="utf-8"))]
    return nb


def _nav(out: Path, site: Path, order: list[Path], titles: dict, page: Path | None) -> dict:
    def href(target: Path) -> str:
        return Path(os.path.relpath(target, out.parent)).as_posix()

    sections = [("Course home", href(site / "index.html")),
                ("Lectures", href(site / "index.html") + "#Lectures"),
                ("Exercises", href(site / "index.html") + "#Exercises")]
    nav = {"sections": sections, "here": titles.get(page, ""), "previous": None, "next": None, "companion": None,
           "download": None, "search": href(site / SEARCH_DIR)}
    if page is not None and page.suffix == ".ipynb":
        nav["download"] = (page.name, href(download_path(page, site)))
    if page is not None and page.parent.name in ("exercises", "solutions"):
        other = "solutions" if page.parent.name == "exercises" else "exercises"
        twin = ROOT / other / page.name
        if twin.is_file():
            nav["companion"] = ("its solution" if other == "solutions" else "the exercise without solutions",
                                href(site_path(twin, site)))
    if page in order:
        i = order.index(page)
        if i > 0:
            nav["previous"] = (titles[order[i - 1]], href(site_path(order[i - 1], site)))
        if i + 1 < len(order):
            nav["next"] = (titles[order[i + 1]], href(site_path(order[i + 1], site)))
    return nav


def download_path(notebook: Path, site: Path) -> Path:
    """Where a notebook's own file is offered for download: beside its page."""
    return site / notebook.relative_to(ROOT)


def pagefind_command() -> list[str]:
    """How to run Pagefind: the ``pagefind`` package's module (its ``[bin]`` extra brings the binary)."""
    return [sys.executable, "-m", "pagefind"]


def index_for_search(site: Path) -> Path:
    """Index the finished pages with Pagefind into ``site/pagefind/``; the search box loads it from there."""
    result = subprocess.run([*pagefind_command(), "--site", str(site), "--output-subdir", SEARCH_DIR],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("Pagefind could not index the site (is the `site` extra installed? make html does it):\n"
                           + result.stdout[-2000:] + result.stderr[-2000:])
    bundle = site / SEARCH_DIR
    if not (bundle / "pagefind-ui.js").is_file():
        raise RuntimeError(f"Pagefind wrote no search UI into {bundle}:\n{result.stdout[-2000:]}")
    return bundle


def build(site: Path) -> list[Path]:
    """Build the whole site into ``site``; return the pages written."""
    site = Path(site).resolve()
    site.mkdir(parents=True, exist_ok=True)
    copy_mathjax(site)
    notebooks = {path: read_for_export(path) for path in course_pages()}
    titles = {path: title_of(nb, path) for path, nb in notebooks.items()}
    for path in notebooks:
        if path.parent.name == "solutions":
            titles[path] = f"{titles[path]} (solution)"
    written: list[Path] = []
    wanted: set[Path] = set()
    done: set[Path] = set()
    exporters: dict[int, HTMLExporter] = {}

    def render(nb, source: Path, out: Path, page: Path | None, order: list[Path]) -> None:
        depth = len(out.relative_to(site).parts) - 1
        if depth not in exporters:
            exporters[depth] = page_exporter("../" * depth + MATHJAX_URL)
        resources = {"metadata": {"name": nb.metadata.get("title") or titles.get(page) or source.stem},
                     "course_nav": _nav(out, site, order, titles, page)}
        body, _ = exporters[depth].from_notebook_node(nb, resources=resources)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(rewrite_links(body, source, out, site, wanted=wanted), encoding="utf-8")
        written.append(out)
        if page is not None and page.suffix == ".ipynb":
            shutil.copy2(page, download_path(page, site))

    for folder in FOLDERS:
        order = [p for p in notebooks if p.parent.name == folder]
        for path in order:
            render(notebooks[path], path, site_path(path, site), path, order)
            done.add(path)
    render(index_notebook(titles, site), ROOT / "index.ipynb", site / "index.html", None, [])

    # Whatever the pages link to: other notebooks and Markdown files become pages, other files are copied.
    while wanted - done:
        target = (wanted - done).pop()
        done.add(target)
        if not target.is_file():
            print(f"warning: a page links to {target.relative_to(ROOT)}, which does not exist", file=sys.stderr)
        elif target.suffix == ".ipynb":
            nb = read_for_export(target)
            titles.setdefault(target, title_of(nb, target))
            render(nb, target, site_path(target, site), target, [])
        elif target.suffix == ".md":
            titles.setdefault(target, target.relative_to(ROOT).as_posix())
            render(markdown_notebook(target), target, site_path(target, site), target, [])
        else:
            out = site_path(target, site)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, out)
    index_for_search(site)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the output folder (default: site/)")
    args = parser.parse_args(argv)
    pages = build(args.site)
    index = (args.site / "index.html").resolve()
    print(f"{len(pages)} pages; open {index.as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
