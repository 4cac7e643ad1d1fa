"""The code's layout: no module imports, directly or around a circle, one that imports it;
no module is longer than `MAX_LINES`.

The import graph is read from the source (every ``import`` and ``from ... import``,
those under ``if TYPE_CHECKING:`` and inside functions included: a circle of types is
still a circle of meaning), for the two packages and the site's hooks (which import
their neighbours by bare name, as MkDocs runs them). `graphlib` finds a circle.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "docs" / "hooks"
#: The longest a module may be: past it, split it by the stages of the data flow it holds.
MAX_LINES = 400
#: Where the line limit applies: every .py file under these folders.
LIMITED = ("derivations", "rnnnum", "docs/hooks", "benchmarks")
#: Modules over the limit for now, each with the reason; to be emptied.
OVER_LIMIT = {
    # TEMPORARY: 410 lines; its split is another branch's work (the relayout of
    # derivations/ into subpackages). Remove this entry when that lands.
    "derivations/render.py",
}


def _modules() -> dict[str, Path]:
    """Module name -> file, for derivations, rnnnum and the hooks (by bare name)."""
    found = {}
    for package in ("derivations", "rnnnum"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    found.update({path.stem: path for path in HOOKS.glob("*.py")})
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports (a package's submodule named in a from-import
    counts as the submodule)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert "derivations.cell_links" in graph["derivations.cell_sums"]
    assert "rnnnum._inputs" in graph["rnnnum.forward"]
    assert "formula_images" in graph["mathjax_svg"]  # a hook's neighbour, by bare name


def test_no_import_circles():
    try:
        order = list(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as error:
        circle = " -> ".join(error.args[1])
        pytest.fail(
            f"import circle: {circle}. Move what both need into a module below them, "
            "or type the dependency with a Protocol where it is used."
        )
    assert len(order) == len(import_graph())


def long_modules(root: Path = ROOT) -> dict[str, int]:
    """Every .py file under `LIMITED` longer than `MAX_LINES`: path -> lines."""
    out = {}
    for folder in LIMITED:
        for path in sorted((root / folder).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                out[path.relative_to(root).as_posix()] = lines
    return out


def test_no_module_is_over_the_line_limit():
    over = {path: n for path, n in long_modules().items() if path not in OVER_LIMIT}
    assert not over, (
        f"modules over {MAX_LINES} lines: {over}. Split each into modules named after the "
        "stages of the data flow it holds."
    )
