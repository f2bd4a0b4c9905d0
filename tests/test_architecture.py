"""The tree shows the design: three layers with arrows pointing down, no borrowed private names."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

EMLIB = Path(__file__).resolve().parents[1] / "emlib"
LAYER = {"core": 0, "apps": 1, "course": 2}


def layer_of(module: str) -> int:
    parts = module.split(".")
    return LAYER.get(parts[1], 0) if len(parts) > 1 and parts[0] == "emlib" else -1


def module_name(path: Path) -> str:
    rel = path.relative_to(EMLIB.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path):
    """(imported module, imported names) for every import in a file, relative imports resolved."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            yield target, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


SOURCES = sorted(EMLIB.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(EMLIB.parent)))
def test_imports_point_down_the_layers(path):
    """The core never imports the applications or the course tooling; the applications never the course."""
    mine = layer_of(module_name(path))
    for target, names in imports(path):
        targets = [target] + [f"{target}.{n}" for n in names]
        for t in targets:
            if t.startswith("emlib.apps") or t.startswith("emlib.course"):
                assert layer_of(t) <= mine, f"{module_name(path)} (layer {mine}) imports {t} from a layer above"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(EMLIB.parent)))
def test_no_module_borrows_another_modules_private_names(path):
    """A helper two modules need is promoted to a public name in one home, never imported as _name."""
    mine = module_name(path)
    for target, names in imports(path):
        if target.startswith("emlib"):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")
                       and not is_module_of_same_layer(f"{target}.{n}", mine)]
            assert not private, f"{mine} imports private {private} from {target}"


def is_module_of_same_layer(name: str, importer: str) -> bool:
    """A package-private *module* (checks/_feedback.py) may serve its own layer; private functions may not."""
    file = EMLIB.parent.joinpath(*name.split("."))
    is_module = file.with_suffix(".py").is_file() or (file / "__init__.py").is_file()
    return is_module and layer_of(name) == layer_of(importer)


def test_import_emlib_loads_the_core_only():
    code = ("import sys, emlib; loaded = [m for m in sys.modules if m.startswith(('emlib.apps', 'emlib.course', "
            "'matplotlib', 'ipywidgets', 'sklearn'))]; print(loaded)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
