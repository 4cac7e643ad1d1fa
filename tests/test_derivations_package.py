"""The package's public names: each is the object its stage module defines.

`derivations/__init__` loads its names lazily (PEP 562). A name shared with a
submodule is the trap (the package once exported a function ``unroll`` beside a module
of that name): once the submodule is imported, Python binds the package attribute to
the module. So every submodule is imported first and
then every public name is looked up, in a fresh interpreter so no earlier test has
already settled the order.
"""

from __future__ import annotations

import subprocess
import sys

_PROBE = r"""
import importlib, inspect, pkgutil, types
import derivations
for info in pkgutil.iter_modules(derivations.__path__):
    if info.name != "__main__":
        importlib.import_module("derivations." + info.name)
wrong = []
for name in derivations.__all__:
    value = getattr(derivations, name)
    if isinstance(value, types.ModuleType):
        wrong.append(f"{name} is the module {value.__name__}")
    elif (inspect.isclass(value) or inspect.isfunction(value)) and value.__name__ != name:
        wrong.append(f"{name} is {value.__name__}")
ns = {}
exec("from derivations import *", ns)
missing = sorted(set(derivations.__all__) - set(ns))
print(wrong, missing)
"""


def test_every_public_name_is_its_object_after_every_submodule_is_imported() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[] []"
