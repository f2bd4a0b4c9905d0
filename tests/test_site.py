"""The rendered site (make html): every page there, every link working, no error shown, nothing from the network."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import build_site  # noqa: E402

ERROR_MARK = 'class="course-error-output"'


class _Page(HTMLParser):
    """The links, loaded resources and element ids of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []        # <a href>
        self.resources: list[str] = []    # <script src>, <link href>, <img src>
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("script", "img") and attrs.get("src"):
            self.resources.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.resources.append(attrs["href"])


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def is_external(url: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I)) or url.startswith("//")


def broken_links(site: Path) -> list[str]:
    """Every relative link or resource of every page whose file (or #anchor in it) does not exist."""
    pages = {path: parse(path) for path in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for url in page.links + page.resources:
            if is_external(url) or url.startswith("data:"):
                continue
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            name = path.relative_to(site)
            if not target.is_file():
                broken.append(f"{name}: {url} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if parts.fragment not in ids and unquote(parts.fragment) not in ids:
                    broken.append(f"{name}: {url} (no element with id {parts.fragment!r})")
    return broken


def network_resources(site: Path) -> list[str]:
    """Scripts, style sheets and images that a page would fetch from the network."""
    found = []
    for path in site.rglob("*.html"):
        for url in parse(path).resources:
            if is_external(url) and not url.startswith("data:"):
                found.append(f"{path.relative_to(site)}: {url}")
    return found


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The site, built once for the whole session into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    build_site.build(folder)
    return folder


def test_every_course_notebook_has_a_page(site):
    for folder in build_site.FOLDERS:
        for nb in sorted((ROOT / folder).glob("*.ipynb")):
            assert (site / folder / f"{nb.stem}.html").is_file(), f"no page for {folder}/{nb.name}"
    assert (site / "index.html").is_file()


def test_every_internal_link_resolves(site):
    broken = broken_links(site)
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_no_page_holds_an_error_output(site):
    with_errors = [p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if ERROR_MARK in p.read_text(encoding="utf-8")]
    assert with_errors == []


def test_pages_load_nothing_from_the_network(site):
    fetched = network_resources(site)
    assert not fetched, "loaded from the network:\n" + "\n".join(fetched)


def test_math_is_rendered_by_a_local_mathjax(site):
    assert (site / "static" / "mathjax" / "MathJax.js").is_file()
    page = (site / "notebooks" / sorted((ROOT / "notebooks").glob("*.ipynb"))[0].with_suffix(".html").name)
    mathjax = [url for url in parse(page).resources if "MathJax.js" in url]
    assert mathjax and (page.parent / urlsplit(mathjax[0]).path).resolve().is_file()


def test_index_lists_lectures_and_exercises_in_course_order(site):
    links = [url for url in parse(site / "index.html").links if url.endswith(".html") and "/" in url]
    lectures = [url for url in links if url.startswith("notebooks/")]
    exercises = [url for url in links if url.startswith("exercises/") and not url.endswith("README.html")]
    assert lectures == [f"notebooks/{p.stem}.html" for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    assert exercises == [f"exercises/{p.stem}.html" for p in sorted((ROOT / "exercises").glob("*.ipynb"))]


def test_every_page_has_the_navigation_bar(site):
    for path in site.rglob("*.html"):
        if "slides" in path.parts:
            continue
        assert 'class="course-nav top"' in path.read_text(encoding="utf-8"), path


def test_links_between_notebooks_point_to_pages(site):
    text = (site / "notebooks" / "00_course_map.html").read_text(encoding="utf-8")
    assert re.search(r'href="01_[a-z_]+\.html"', text)
    # the only links to a .ipynb file are the page's own download links
    ipynb_links = re.findall(r'<a\b[^>]*href="[^"]+\.ipynb"[^>]*>', text)
    assert ipynb_links and all("course-download" in a and re.search(r"\sdownload[=\s]", a) for a in ipynb_links)


class _Downloads(HTMLParser):
    """The href of every <a class="course-download" download> of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "course-download" in (attrs.get("class") or "").split() and "download" in attrs:
            self.hrefs.append(attrs.get("href"))


def downloads(path: Path) -> list[str]:
    parser = _Downloads()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.hrefs


def test_every_notebook_page_offers_its_own_notebook_for_download(site):
    for folder in build_site.FOLDERS:
        for nb in sorted((ROOT / folder).glob("*.ipynb")):
            page = site / folder / f"{nb.stem}.html"
            links = downloads(page)
            assert links == [nb.name, nb.name], f"{page.name}: download links {links}"   # top and bottom bar
            offered = page.parent / links[0]
            assert offered.read_bytes() == nb.read_bytes(), f"{folder}/{nb.name}: the download is not the stored notebook"
    assert downloads(site / "index.html") == []


def test_exercise_download_is_the_exercise_not_the_solution(site):
    for nb in sorted((ROOT / "exercises").glob("*.ipynb")):
        offered = (site / "exercises" / nb.name).read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in offered and "NotImplementedError" in offered


def test_every_page_has_a_search_box_that_loads_the_local_index(site):
    for path in [site / "index.html", *(site / folder / f"{nb.stem}.html" for folder in build_site.FOLDERS
                                        for nb in sorted((ROOT / folder).glob("*.ipynb")))]:
        page = parse(path)
        assert "course-search" in page.ids, f"{path.relative_to(site)}: no search box"
        ui = [url for url in page.resources if url.endswith("pagefind-ui.js")]
        assert ui and (path.parent / ui[0]).resolve() == (site / "pagefind" / "pagefind-ui.js").resolve()


def _search_index(site: Path) -> dict[str, str]:
    """Pagefind's index as {page url: its indexed text}, read from the fragment files it wrote.

    Each fragment is gzip-compressed, ``pagefind_dcd`` followed by JSON with the page's url and content.
    """
    import gzip
    import json

    pages = {}
    for fragment in (site / "pagefind" / "fragment").glob("*.pf_fragment"):
        raw = gzip.decompress(fragment.read_bytes())
        data = json.loads(raw[raw.index(b"{"):])
        pages[data["url"]] = data["content"]
    return pages


def test_the_search_index_covers_every_page_and_their_words(site):
    index = _search_index(site)
    assert (site / "pagefind" / "pagefind-entry.json").is_file()
    urls = {url.lstrip("/") for url in index}
    for folder in build_site.FOLDERS:
        for nb in sorted((ROOT / folder).glob("*.ipynb")):
            assert f"{folder}/{nb.stem}.html" in urls, f"{folder}/{nb.name} is not searchable"
    # a word that only the lecture on trimming uses is found on that page, and the bars are not indexed
    trimming = next(text for url, text in index.items() if url.endswith("notebooks/10_annulus_trimming.html"))
    assert "annulus" in trimming.lower()
    assert "Course home" not in trimming


def test_the_search_box_is_absent_where_no_index_is_given(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title")]
    body, _ = build_site.page_exporter(build_site.MATHJAX_URL).from_notebook_node(
        nb, resources={"course_nav": {"sections": [], "here": "t"}})
    assert "pagefind-ui.js" not in body and "course-download" not in body


def test_a_download_link_is_not_rewritten_to_a_page(tmp_path):
    source = ROOT / "notebooks" / "01_x.ipynb"
    out = tmp_path / "notebooks" / "01_x.html"
    for download in ('download', 'download=""'):
        body = f'<a class="course-download" {download} href="01_x.ipynb">d</a> <a href="01_x.ipynb">p</a>'
        new = build_site.rewrite_links(body, source, out, tmp_path)
        assert f'{download} href="01_x.ipynb"' in new and '<a href="01_x.html">' in new


def test_exercise_pages_show_no_solutions(site):
    for nb in sorted((ROOT / "exercises").glob("*.ipynb")):
        text = (site / "exercises" / f"{nb.stem}.html").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text
        assert "NotImplementedError" in text, f"exercises/{nb.name}: no task left to the student?"


# --- the checks themselves catch what they look for --------------------------------------------
def _page(tmp_path, cells) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    exporter = build_site.page_exporter(build_site.MATHJAX_URL)
    body, _ = exporter.from_notebook_node(nb, resources={"course_nav": {"sections": [], "here": "t"}})
    out = tmp_path / "page.html"
    out.write_text(body, encoding="utf-8")
    return out


def test_an_error_output_is_marked_on_its_page(tmp_path):
    cell = nbformat.v4.new_code_cell("1 / 0", outputs=[nbformat.v4.new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["ZeroDivisionError"])])
    assert ERROR_MARK in _page(tmp_path, [cell]).read_text(encoding="utf-8")


def test_a_broken_link_or_anchor_is_reported(tmp_path):
    _page(tmp_path, [nbformat.v4.new_markdown_cell("# Title\n\n[gone](gone.html) [here](page.html#nowhere)")])
    broken = broken_links(tmp_path)
    assert any("gone.html" in b for b in broken) and any("nowhere" in b for b in broken)


def test_links_to_notebooks_are_rewritten_to_pages(tmp_path):
    source = ROOT / "notebooks" / "01_x.ipynb"
    out = tmp_path / "notebooks" / "01_x.html"
    body = '<a href="02_y.ipynb#Summary">next</a> <a href="../solutions/03_z.ipynb">s</a> <a href="https://x.org/a.ipynb">w</a>'
    new = build_site.rewrite_links(body, source, out, tmp_path)
    assert 'href="02_y.html#Summary"' in new
    assert 'href="../solutions/03_z.html"' in new
    assert 'href="https://x.org/a.ipynb"' in new


# --- the search box in a real browser (where make test-browser has installed Chromium and Playwright) --
CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium (make test-browser installs it)")
def test_the_search_box_finds_a_page_in_a_browser_with_nothing_from_the_network(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="no Playwright (make test-browser installs it)")
    import functools
    import http.server
    import threading

    served = tmp_path_factory.mktemp("served")
    build_site.build(served / "course")        # served below the server's root, as on a project web page
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{base}/course/notebooks/04_em_algorithm.html")
            page.fill(".pagefind-ui__search-input", "annulus")
            page.wait_for_selector(".pagefind-ui__result-link", timeout=30_000)
            hrefs = page.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.getAttribute('href'))")
            browser.close()
    finally:
        server.shutdown()
    assert hrefs[0] == "/course/notebooks/10_annulus_trimming.html"
    assert [u for u in requests if not u.startswith(base) and u != "about:blank"] == []
