"""Lecture mode: every lecture notebook carries slide metadata from the rules, and the decks build offline."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import slides  # noqa: E402

LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))


def md(source):
    return nbformat.v4.new_markdown_cell(source)


def code(source, outputs=(), tags=()):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def figure():
    return nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})


def types_of(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return slides.rule_types(nb)


# --- the stored metadata ------------------------------------------------------------------------
@pytest.mark.parametrize("path", LECTURES, ids=[p.name for p in LECTURES])
def test_lecture_notebook_has_the_slide_metadata_of_the_rules(path):
    found = slides.problems(path)
    assert not found, "\n".join(found) + "\nrun  .venv/bin/python tools/slides.py  to write the metadata"


def test_every_override_names_a_lecture_notebook():
    for name in slides.OVERRIDES:
        assert (ROOT / name).is_file(), f"OVERRIDES names {name}, which does not exist"


# --- the rules ----------------------------------------------------------------------------------
def test_level_one_and_two_headings_start_slides_and_level_three_subslides():
    assert types_of(md("# Title"), md("## Section"), md("### Part"), md("#### Detail")) == \
        ["slide", "slide", "subslide", "-"]


def test_the_set_up_cell_is_skipped():
    assert types_of(md("# T"), code("import numpy as np\nemlib.course.plotting.use_course_style()"))[1] == "skip"


def test_a_cell_that_imports_and_prints_is_shown():
    assert types_of(md("# T"), code("import numpy as np\nprint(1)", [stream("1\n")]))[1] == "-"


def test_long_code_without_output_goes_to_the_notes():
    helper = "def f(x):\n" + "    x = x + 1\n" * slides.LONG_CODE + "    return x"
    assert types_of(md("# T"), code(helper))[1] == "notes"


def test_a_widget_cell_gets_a_page_of_its_own():
    widget = code("explorer = EMExplorer()\nexplorer", tags=["nbval-ignore-output"])
    assert types_of(md("# T"), widget)[1] == "subslide"


def test_a_cell_that_would_overflow_the_page_starts_a_new_one():
    cells = [md("## S"), code("plot()", [figure()]), code("plot()", [figure()])]
    assert types_of(*cells) == ["slide", "-", "subslide"]


def test_a_short_conclusion_after_an_output_is_a_fragment():
    assert types_of(md("## S"), code("x = 1\nprint(x)", [stream("1\n")]), md("So x is one."))[2] == "fragment"


def test_a_cell_introduced_by_a_line_ending_in_a_colon_stays_with_it():
    helper = "def f(x):\n" + "    x = x + 1\n" * slides.LONG_CODE + "    return x"
    cells = [md("## S"), code("plot()", [figure()]), md("The helper, in full:"), code(helper)]
    assert types_of(*cells) == ["slide", "-", "subslide", "-"]


def test_an_override_replaces_the_rules_choice(monkeypatch, tmp_path):
    path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# T"), code("x = 1\nprint(x)", [stream("1\n")]), md("Now the check."), code("check()")]
    assert slides.slide_types(nb, path) == ["slide", "-", "fragment", "-"]
    monkeypatch.setitem(slides.OVERRIDES, slides._relative(path), {"Now the check": "subslide"})
    assert slides.slide_types(nb, path) == ["slide", "-", "subslide", "-"]


def test_an_override_that_matches_no_cell_is_an_error(monkeypatch, tmp_path):
    path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# T")]
    nbformat.write(nb, path)
    monkeypatch.setitem(slides.OVERRIDES, slides._relative(path), {"no such cell": "skip"})
    with pytest.raises(ValueError, match="matches 0 cells"):
        slides.slide_types(nb, path)


def test_check_reports_cells_without_metadata_and_apply_fixes_them(tmp_path):
    path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# T"), code("import numpy as np")]
    nbformat.write(nb, path)
    assert len(slides.problems(path)) == 3       # two cells, and the notebook's RISE settings
    assert slides.apply(path) is True
    assert slides.problems(path) == []
    assert slides.apply(path) is False            # a second run changes nothing
    stored = nbformat.read(path, as_version=4)
    assert [c.metadata["slideshow"]["slide_type"] for c in stored.cells] == ["slide", "skip"]
    assert stored.cells[1].source == "import numpy as np"


# --- presenting live in JupyterLab --------------------------------------------------------------
def test_jupyterlab_rise_is_installed_for_live_slideshows():
    assert importlib.util.find_spec("jupyterlab_rise") is not None, "pip install jupyterlab-rise"
    extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-rise" / "package.json"
    assert extension.is_file(), f"{extension} is missing: the RISE extension is not installed in JupyterLab"


# --- the decks ----------------------------------------------------------------------------------
class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.sections = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "section":
            self.sections += 1


@pytest.fixture(scope="session")
def decks(tmp_path_factory):
    """The decks, rendered once into a temporary site (reveal.js comes from npm into build/, once)."""
    have_assets = (ROOT / "build" / "npm" / "node_modules" / "reveal.js").is_dir()
    if not have_assets and shutil.which("npm") is None:
        pytest.skip("npm is needed once to fetch reveal.js for the decks")
    site = tmp_path_factory.mktemp("site")
    return site, slides.build_decks(site, ROOT / "build")


def test_every_lecture_notebook_has_a_deck(decks):
    site, built = decks
    assert sorted(p.name for p in built) == [f"{p.stem}.slides.html" for p in LECTURES]


def test_decks_load_everything_from_beside_them(decks):
    site, built = decks
    for deck in built:
        page = _Resources()
        page.feed(deck.read_text(encoding="utf-8"))
        for url in [u for u in page.urls if not u.startswith("data:")] + re.findall(r'"(reveal\.js/[^"]+\.js)"', deck.read_text(encoding="utf-8")):
            assert not re.match(r"^[a-z]+:|^//", url), f"{deck.name} loads {url} from the network"
            assert (deck.parent / urlsplit(url).path).is_file(), f"{deck.name}: {url} is missing"
            if url.endswith(".css"):
                css = (deck.parent / url).read_text(encoding="utf-8")
                assert not re.search(r"@import\s+url\((['\"]?)https?:", css), f"{url} imports web fonts"


def test_a_deck_has_one_section_per_slide_and_subslide(decks):
    site, built = decks
    for path, deck in zip(LECTURES, built):
        nb = nbformat.read(path, as_version=4)
        kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
        page = _Resources()
        page.feed(deck.read_text(encoding="utf-8"))
        # a slide is a <section> holding one <section> per page (its first page and each subslide)
        assert page.sections == 2 * kinds.count("slide") + kinds.count("subslide"), deck.name


def test_skipped_cells_are_left_out_of_the_deck(decks):
    site, built = decks
    for path, deck in zip(LECTURES, built):
        nb = nbformat.read(path, as_version=4)
        shown = sum(c.metadata.get("slideshow", {}).get("slide_type") != "skip" for c in nb.cells)
        rendered = len(re.findall(r'class="jp-Cell jp-', deck.read_text(encoding="utf-8")))
        assert rendered == shown, deck.name
