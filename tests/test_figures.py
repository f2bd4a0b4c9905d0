"""The figures of the lecture notebooks, held to the rules a program can check.

Every stored figure is sharp on a projector and a HiDPI screen (stored at twice its display size),
carries a one-sentence description (its alt text on the site), and no notebook reaches for
Matplotlib's default colours, which are not colour-blind safe (components 2 and 3 of the old palette
were nearly the same under deuteranopia).
"""

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))
DEFAULT_COLOURS = re.compile(r"""cmap\s*=\s*["']tab(10|20)["']|color\s*=\s*["']C\d["']|#1f77b4|#ff7f0e|#2ca02c|#d62728""")


def figures(path: Path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                yield index, output


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_every_figure_is_stored_at_twice_its_display_size_with_a_description(path):
    problems = []
    for index, output in figures(path):
        meta = output.get("metadata", {}).get("image/png", {})
        image = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"])))
        alt = meta.get("alt", "")
        if len(alt.split()) < 5:
            problems.append(f"cell {index}: no one-sentence description (emlib.course.plotting.describe)")
        if "width" not in meta or image.width < 2 * meta["width"] - 1:
            problems.append(f"cell {index}: {image.width} px shown at {meta.get('width', image.width)} px; "
                            "use emlib.course.plotting.use_course_style() (2x)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_no_notebook_uses_matplotlibs_default_colours(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            match = DEFAULT_COLOURS.search(source)
            assert not match, (f"{path.name} cell {index} uses {match.group(0)!r}: use the Okabe-Ito colours "
                               "(emlib.course.plotting.component_colors, PALETTE) or a ListedColormap of them")
