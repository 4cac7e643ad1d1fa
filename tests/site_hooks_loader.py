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
