"""Compiled Jinja templates kept between the rebuilds of `mkdocs serve`.

Each rebuild under `mkdocs serve` loads the configuration anew, so Material's theme and
mkdocstrings' handler make new Jinja environments and compile their ~80 templates again
(about 1.1 s of a rebuild here). Jinja's own bytecode cache keeps the compiled code; it
is keyed by template name and checked against a hash of the template's source, so an
edited template is compiled anew. The cache lives in memory, in a namespace registered
in `sys.modules` (as `site.py` keeps its job server), and only under `mkdocs serve`: a
`mkdocs build` compiles everything, as before.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket

_KEPT: Any = sys.modules.setdefault("_unrolled_templates", types.ModuleType("_unrolled_templates"))
if not hasattr(_KEPT, "code"):
    _KEPT.code = {}  # bucket key -> what Jinja wrote: a header, the source checksum, the code


class KeptBytecode(BytecodeCache):
    """Jinja's bytecode cache over a dictionary that outlives the rebuild."""

    def __init__(self, store: dict[str, bytes]) -> None:
        self.store = store

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # refused by Jinja if the source changed

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


def _serving() -> bool:
    return sys.argv[1:2] == ["serve"]


def _keep(env: Environment) -> None:
    env.bytecode_cache = KeptBytecode(_KEPT.code)


def on_pre_build(config: Any) -> None:
    """mkdocstrings' environment: it renders while the pages are read, before `on_env`."""
    plugin = config.plugins.get("mkdocstrings")
    if _serving() and plugin is not None:
        _keep(plugin.handlers.get_handler("python").env)


def on_env(env: Environment, config: Any, files: Any) -> Environment:
    """The theme's environment."""
    if _serving():
        _keep(env)
    return env
