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
#: Where the line limit applies: every source file (`SOURCES`) under these folders.
LIMITED = ("derivations", "rnnnum", "docs/hooks", "benchmarks")
#: The kinds of source file the limit counts: Python, and the C of rnnnum's compiled steps.
SOURCES = ("*.py", "*.c", "*.h")


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
    assert "derivations.gradient.links" in graph["derivations.gradient.sums"]
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


#: derivations' stages in the order the data flows: a module imports only from its own
#: stage or an earlier one; then the CLI and the package's front
#: (``derivations/__init__.py``), which name everything. The vanilla RNN's older,
#: hand-structured pipeline is not a stage: it lives in tests/vanilla_reference, a second
#: derivation the tests read the engine against.
STAGES = ("core", "program", "gradient", "compile", "render", "check", "cli", "")


def _stage(module: str) -> int:
    parts = module.split(".")
    stage = parts[1] if len(parts) > 1 else ""
    return STAGES.index("" if stage == "__main__" else stage)


def test_derivations_imports_follow_the_data_flow():
    graph = import_graph()
    upstream = [
        f"{name} ({_stage(name)}: {STAGES[_stage(name)] or 'the package'}) imports {dep} "
        f"({STAGES[_stage(dep)] or 'the package'})"
        for name, deps in graph.items()
        if name.startswith("derivations.")
        for dep in deps
        if dep.startswith("derivations.") and _stage(dep) > _stage(name)
    ]
    assert not upstream, (
        "a stage imports a later one: " + "; ".join(sorted(upstream))
        + f". The stages in order: {', '.join(s for s in STAGES if s)}. Move what both "
        "need into the earlier stage."
    )  # fmt: skip


def test_every_derivations_module_sits_in_a_stage():
    loose = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "derivations").glob("*.py")
        if p.stem not in {"__init__", "__main__", "cli"}
    ]
    assert not loose, f"modules outside the stage folders: {loose}; put each in its stage"


def long_modules(root: Path = ROOT) -> dict[str, int]:
    """Every source file under `LIMITED` longer than `MAX_LINES`: path -> lines."""
    out = {}
    for folder in LIMITED:
        for path in sorted(p for kind in SOURCES for p in (root / folder).rglob(kind)):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                out[path.relative_to(root).as_posix()] = lines
    return out


def test_no_module_is_over_the_line_limit():
    over = long_modules()
    assert not over, (
        f"modules over {MAX_LINES} lines: {over}. Split each into modules named after the "
        "stages of the data flow it holds."
    )


def test_the_line_limit_counts_python_and_c_alike(tmp_path):
    for name, lines in [
        ("long.py", MAX_LINES + 1),
        ("long.c", MAX_LINES + 1),
        ("long.h", MAX_LINES + 1),
        ("fits.c", MAX_LINES),
        ("notes.txt", 900),
    ]:
        path = tmp_path / "rnnnum" / "csrc" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n" * lines, encoding="utf-8")
    assert long_modules(tmp_path) == {
        f"rnnnum/csrc/{name}": MAX_LINES + 1 for name in ("long.c", "long.h", "long.py")
    }


def _imported_names(path: Path) -> set[str]:
    """Every top-level module name `path` imports (absolute imports only)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_the_product_never_imports_the_vanilla_reference():
    """tests/vanilla_reference is a second derivation for the tests to read the engine
    against; the product (packages, hooks, benchmarks) must stand without it."""
    importers = [
        str(path.relative_to(ROOT))
        for folder in LIMITED
        for path in (ROOT / folder).rglob("*.py")
        if "vanilla_reference" in _imported_names(path)
    ]
    assert not importers, f"the product imports the tests' vanilla reference: {importers}"
