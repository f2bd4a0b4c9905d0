"""Every lecture notebook has the shape a lecture needs (CONTRIBUTING.md, "Notebooks").

One idea per notebook, short enough to teach in one sitting: a title and "What you
will learn", at least two "predict, then run" moments, a "Check yourself" section
whose answers fold away, a reading list, a summary, and at most
:data:`MAX_SOURCE` characters of cell source (prose and code together; a notebook
that grows past it teaches two ideas, or carries code that belongs in emlib).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_SOURCE = 15_000


def source_length(nb) -> int:
    """Characters of cell source: what a reader reads, outputs not counted."""
    return sum(len(cell.source) for cell in nb.cells)


def shape_problems(nb) -> list[str]:
    """What a lecture notebook lacks, in words; empty when it has the whole shape."""
    md = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    text = "\n".join(md)
    problems = []
    if not md or not re.match(r"# \d\d[a-z]? · \S", md[0]):
        problems.append("the first cell is not a title '# NN · ...'")
    if "What you will learn" not in text:
        problems.append("no 'What you will learn'")
    predicts = len(re.findall(r"^\*\*Predict\.\*\* \S", text, re.M))   # a paragraph that asks before a cell shows
    if predicts < 2:
        problems.append(f"{predicts} '**Predict.**' moment(s), at least 2 expected")
    check = re.search(r"^## Check yourself\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not check:
        problems.append("no '## Check yourself' section")
    elif check.group(1).count("<details>") < 2 or check.group(1).count("<details>") != check.group(1).count("</details>"):
        problems.append("'Check yourself' needs at least 2 answers, each folded in <details>...</details>")
    if not re.search(r"^## Further reading\s*$", text, re.M):
        problems.append("no '## Further reading'")
    if not re.search(r"^## .*Summary", text, re.M | re.I):
        problems.append("no summary section")
    if source_length(nb) > MAX_SOURCE:
        problems.append(f"{source_length(nb):,} characters of source, at most {MAX_SOURCE:,}")
    return problems


def test_there_are_lectures():
    assert len(LECTURES) >= 17


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_lecture_notebook_has_the_shape_of_a_lecture(path):
    assert shape_problems(nbformat.read(path, as_version=4)) == []


def test_the_shape_check_names_what_is_missing():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 99 · A notebook\n\n**What you will learn**"),
        nbformat.v4.new_markdown_cell("**Predict.** Which?"),
        nbformat.v4.new_code_cell("x = 1\n" * 3000),
        nbformat.v4.new_markdown_cell("## Check yourself\n\n1. Q <details><summary>Answer</summary>A</details>"),
        nbformat.v4.new_markdown_cell("## Summary\n\nDone."),
    ])
    assert source_length(nb) > 18_000
    assert shape_problems(nb) == [
        "1 '**Predict.**' moment(s), at least 2 expected",
        "'Check yourself' needs at least 2 answers, each folded in <details>...</details>",
        "no '## Further reading'",
        f"{source_length(nb):,} characters of source, at most 15,000",
    ]
    nb.cells[0].source = "Title without the number"
    assert "the first cell is not a title '# NN · ...'" in shape_problems(nb)
