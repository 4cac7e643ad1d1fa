"""Load docs/hooks/site.py the way MkDocs does: as a module from its file path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HOOKS = Path(__file__).resolve().parent.parent / "docs" / "hooks" / "site.py"


def load_site_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unrolled_site_hooks", HOOKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.path.copy()
    sys.path.insert(0, str(HOOKS.parent))  # as MkDocs does: the hooks import their neighbours
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def load_hook(name: str) -> ModuleType:
    """Load docs/hooks/`name`.py by its file path, its neighbours importable by name."""
    if str(HOOKS.parent) not in sys.path:
        sys.path.insert(
            0, str(HOOKS.parent)
        )  # the hooks import gen_plot by name, as MkDocs runs them
    spec = importlib.util.spec_from_file_location(f"unrolled_{name}", HOOKS.parent / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a module's dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module
