"""The text of every notebook renders: no control characters in Markdown, and LaTeX that MathJax can typeset.

A string such as "$\\ln \\rho_k$" written without the r prefix in a generator
keeps "\\r" as a carriage return, and the page then shows "$\\ln ho_k$";
an odd number of $ signs turns the rest of a paragraph into math; a
misspelt command (\\mathcall, \\rh) shows up red on the site. These tests
read every Markdown cell of notebooks/, solutions/ and exercises/ and fail
on each of those, naming the notebook, the cell and the offending text.

What is checked, in each Markdown cell (code spans and fenced code removed):

- no control character other than newline and tab;
- display math $$ ... $$ and inline math $ ... $ are balanced (an escaped
  \\$ is a dollar sign, not a delimiter);
- the braces inside each formula are balanced ({ and } not escaped);
- every backslash command inside a formula is one the course uses
  (:data:`KNOWN_COMMANDS`), and no such command appears outside a formula
  (there it would show as plain text: a sign of a lost $);
- every inline formula that Matplotlib's mathtext can parse is parsed
  (mathtext knows a subset of TeX; formulas using a command it does not
  know, such as \\text or \\begin, are left to the checks above).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))

KNOWN_COMMANDS = frozenset("""
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho
    sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega
    ln log exp det max min arg sup inf lim sum prod int partial nabla infty
    frac tfrac dfrac sqrt cdot cdots ldots dots times div pm mp
    le leq ge geq ne neq approx sim propto equiv in notin subset subseteq cup cap mid setminus emptyset
    to rightarrow leftarrow Rightarrow Leftarrow Longrightarrow longrightarrow mapsto iff implies leftrightarrow
    mathcal mathbb mathrm mathbf mathit boldsymbol text textbf textit operatorname texttt
    hat bar tilde vec dot ddot widehat widetilde overline underline underbrace overbrace boxed
    left right big Big bigg Bigg bigl bigr Bigl Bigr
    quad qquad
    begin end aligned cases pmatrix bmatrix matrix array
    top intercal circ ast star lfloor rfloor lceil rceil langle rangle
    forall exists neg land lor wedge vee not
    ell ll gg mathsf mathtt lvert rvert lVert rVert vert Vert succeq preceq succ prec
    """.split())
"""The backslash commands the course's formulas use; a command outside this list is most likely a typo."""

SYMBOL_COMMANDS = frozenset(",;:! {}|$%#&_".replace(" ", "")) | {" ", "\\"}
"""One-character commands: spacing (\\, \\; \\: \\!), escaped braces and signs, \\| (a norm), \\\\ (a new row)."""

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
FENCED = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
DISPLAY = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
INLINE = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$", re.S)
FONT_TOKEN = re.compile(r"\\(mathcal|mathbb|mathrm|mathbf|mathit|mathsf|mathtt|boldsymbol)\s*(\\[A-Za-z]+|[A-Za-z0-9])")
SHORT_FRAC = re.compile(r"\\([td]?frac)\s*([A-Za-z0-9])\s*([A-Za-z0-9])")
COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)


def markdown_cells():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                yield f"{path.parent.name}/{path.name} cell {index}", cell.source


def strip_code(text: str) -> str:
    """The Markdown without fenced code blocks and code spans (whose $ and \\ are literal)."""
    return CODE_SPAN.sub(" ", FENCED.sub(" ", text))


def split_math(text: str) -> tuple[list[str], list[str], str]:
    """(display formulas, inline formulas, the prose left when both are removed) of code-free Markdown."""
    display = DISPLAY.findall(text)
    rest = DISPLAY.sub(" ", text)
    inline = INLINE.findall(rest)
    prose = INLINE.sub(" ", rest)
    return display, inline, prose


def unbalanced_braces(formula: str) -> bool:
    depth = 0
    for token in re.finditer(r"\\.|[{}]", formula, re.S):
        if token.group() == "{":
            depth += 1
        elif token.group() == "}":
            depth -= 1
            if depth < 0:
                return True
    return depth != 0


def commands(formula: str) -> list[str]:
    return COMMAND.findall(formula)


def text_problems(text: str) -> list[str]:
    """Every rendering problem of one Markdown cell, as short messages (empty: the cell renders)."""
    problems = []
    for match in CONTROL.finditer(text):
        around = text[max(match.start() - 20, 0):match.end() + 20]
        problems.append(f"control character {match.group()!r} in {around!r}")
    body = strip_code(text)
    display, inline, prose = split_math(body)
    if re.search(r"(?<!\\)\$\$", DISPLAY.sub(" ", body)) or re.search(r"(?<!\\)\$", prose):
        problems.append("unbalanced $ or $$: a formula is not closed")
    for formula in display + inline:
        if unbalanced_braces(formula):
            problems.append(f"unbalanced braces in ${formula.strip()}$")
        for name in commands(formula):
            if name not in KNOWN_COMMANDS and name not in SYMBOL_COMMANDS:
                problems.append(f"unknown command \\{name} in ${formula.strip()}$")
    for name in commands(prose):
        if name in KNOWN_COMMANDS:
            problems.append(f"\\{name} outside a formula (a lost $?)")
    for formula in inline:
        error = mathtext_error(formula)
        if error:
            problems.append(f"${formula}$ does not parse: {error}")
    return problems


@functools.lru_cache(maxsize=None)
def mathtext_knows(name: str) -> bool:
    """Whether Matplotlib's mathtext parses the command \\name (alone, or with one or two arguments)."""
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    for probe in (rf"$\{name}$", rf"$\{name}{{x}}$", rf"$\{name}{{x}}{{y}}$", rf"$\{name} x$"):
        try:
            parser.parse(probe)
            return True
        except ValueError:
            continue
    return False


def mathtext_error(formula: str) -> str | None:
    """mathtext's complaint about an inline formula, or None (also None when it uses a command mathtext lacks)."""
    from matplotlib.mathtext import MathTextParser

    names = [n for n in commands(formula) if len(n) > 1]
    if not all(mathtext_knows(n) for n in names):
        return None
    # MathJax takes one token after a font command (\mathcal N); mathtext wants braces (\mathcal{N})
    formula = FONT_TOKEN.sub(r"\\\1{\2}", formula)
    formula = SHORT_FRAC.sub(r"\\\1{\2}{\3}", formula)            # \frac1n is \frac{1}{n}
    try:
        MathTextParser("path").parse(f"${formula}$")
    except ValueError as exc:
        return " ".join(str(exc).split())[:160]
    return None


# --- the checker itself -------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "the weights $\\rho_k$ and $\\ln \\rho_k$",
    "display $$\\sum_{i=1}^n \\ln p(x_i)$$ and prose",
    "a price of \\$5 and $x$",
    "code `$not math` and ```\n$also not\n``` fine",
    "$\\underbrace{a + b}_{Q}$ and $\\text{if } x$",
])
def test_text_that_renders_passes(text):
    assert text_problems(text) == []


@pytest.mark.parametrize("text, problem", [
    ("the MAP rule uses $\\ln \rho_k$", "control character '\\r'"),
    ("a form feed $\\ln \x0crac{1}{2}$", "control character '\\x0c'"),
    ("an odd dollar: $x_i and then prose", "unbalanced $"),
    ("$$\\sum_i x_i$ then text", "unbalanced $"),
    ("braces $\\frac{1}{2$ here", "unbalanced braces"),
    ("braces $x}$ here", "unbalanced braces"),
    ("a typo $\\mathcall{N}$", "unknown command \\mathcall"),
    ("a lost delimiter: \\rho_k is the weight", "\\rho outside a formula"),
    ("mathtext rejects $x^^2$", "does not parse"),
])
def test_text_that_does_not_render_fails(text, problem):
    assert any(problem in p for p in text_problems(text)), text_problems(text)


# --- every notebook of the course ---------------------------------------------------------------

CELLS = list(markdown_cells())


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 30 and len(CELLS) > 100


@pytest.mark.parametrize("where, text", CELLS, ids=[where for where, _ in CELLS])
def test_markdown_renders(where, text):
    problems = text_problems(text)
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)
