"""Loading a user's own cell from ``"package.module:attribute"``: every failure a load error.

A user's module is the user's own Python, so anything may go wrong in it: a syntax
error, an exception while it is imported (a `CellDefinitionError` from a `Cell` built at
module level among them), a factory that raises, a factory that returns something else.
Each becomes a `CellLoadError` that names the spec, the file and the line where it went
wrong, and what was raised there; never a traceback (the CLI exits 2 with the message).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from derivations.core.errors import DerivationError

__all__ = ["CellLoadError", "import_user_module", "raised_where", "user_cell_value"]

#: How many of a module's names an error about a missing attribute shows.
_SHOWN_NAMES = 8
#: Frames inside these folders are the loader's, not the user's (nor is generated code,
#: ``<string>``, such as a dataclass's __init__): the error names the deepest frame
#: outside them (the user's line), or the deepest one if all are inside.
_OWN_FOLDERS = (str(Path(__file__).resolve().parent.parent) + os.sep, "<frozen importlib")


class CellLoadError(DerivationError, ValueError):
    """A cell spec could not be loaded: the message says which part failed and why."""


def raised_where(error: BaseException) -> str:
    """``"file, line n"`` of the user's line that raised `error` (a syntax error: its own)."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}, line {error.lineno}"
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "an unknown place"
    theirs = [f for f in frames if not f.filename.startswith((*_OWN_FOLDERS, "<"))]
    frame = (theirs or frames)[-1]
    return f"{frame.filename}, line {frame.lineno}"


def _what(error: BaseException) -> str:
    """The exception's type and message on one line (a syntax error: its message only)."""
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg}"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def import_user_module(spec: str, module_name: str, builtins: str) -> Any:
    """Import `module_name`, found in the current directory as well as on `sys.path`."""
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:  # a console script's sys.path starts at its own folder, not the user's
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if module_name.endswith(".py"):
            raise CellLoadError(
                f"cell spec {spec!r}: a module is named without its file's .py, as Python "
                f"imports it; write {module_name.removesuffix('.py')}:{spec.partition(':')[2]}."
            ) from None
        if error.name is not None and (module_name + ".").startswith(error.name + "."):
            raise CellLoadError(
                f"cell spec {spec!r}: no module named {error.name!r} in the current directory "
                f"({cwd}) or on sys.path. Write the module's name as you would import it "
                f"(mycells for mycells.py, without .py), run from the folder that holds it, "
                f"or add that folder to PYTHONPATH; built-in cells: {builtins}."
            ) from None
        raise _load_error(spec, f"importing {module_name}", error) from None
    except (Exception, SystemExit) as error:  # the user's code: anything, sys.exit too
        raise _load_error(spec, f"importing {module_name}", error) from None
    finally:
        if added:
            sys.path.remove(cwd)


def _load_error(spec: str, doing: str, error: BaseException) -> CellLoadError:
    if isinstance(error, CellLoadError):
        return error
    return CellLoadError(
        f"cell spec {spec!r}: {doing} failed at {raised_where(error)}: "
        f"{_what(error).rstrip('.')}. Fix the cell's module there and run again."
    )


def _missing(spec: str, module: Any, attribute: str, cell_type: type, builtins: str) -> str:
    cells = [n for n in dir(module) if isinstance(getattr(module, n), cell_type)]
    public = [n for n in dir(module) if not n.startswith("_")]
    shown = (
        f"its cells: {', '.join(cells)}"
        if cells
        else f"no Cell among its {len(public)} public names"
        + (f", e.g. {', '.join(public[:_SHOWN_NAMES])}" if public else "")
    )
    return (
        f"cell spec {spec!r}: module {module.__name__} has no attribute {attribute!r} "
        f"({shown}). Built-in cells: {builtins}."
    )


def user_cell_value(spec: str, cell_type: type, builtins: str) -> Any:
    """The object a user's ``"module:attribute"`` names, a factory called; checked to be a
    `cell_type` (a `derivations.Cell`). Every failure is a `CellLoadError` (module docstring)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute or ":" in attribute:
        raise CellLoadError(
            f"a user cell spec is 'package.module:attribute' with one colon; got {spec!r}. "
            f"Built-in cells need no colon: {builtins}."
        )
    module = import_user_module(spec, module_name, builtins)
    if not hasattr(module, attribute):
        raise CellLoadError(_missing(spec, module, attribute, cell_type, builtins))
    value = getattr(module, attribute)
    wanted = f"{attribute} must be a derivations Cell or a function of no arguments returning one"
    if callable(value) and not isinstance(value, cell_type):
        try:
            inspect.signature(value).bind()
        except TypeError as error:
            raise CellLoadError(
                f"cell spec {spec!r}: {wanted}; calling it with none fails ({error})."
            ) from None
        except ValueError:  # no signature to read (some built-ins): call it and see
            pass
        try:
            value = value()
        except (Exception, SystemExit) as error:  # the user's factory, sys.exit too
            raise _load_error(spec, f"calling {attribute}()", error) from None
    if not isinstance(value, cell_type):
        raise CellLoadError(
            f"cell spec {spec!r}: {wanted}; got {type(value).__name__}. Built-in cells: {builtins}."
        )
    return value
