"""docs/hooks/template_cache.py: compiled templates kept between `mkdocs serve` rebuilds.

Each rebuild makes new Jinja environments; the kept bytecode must spare the compiling
of an unchanged template and must never hand out the code of an edited one.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import DictLoader, Environment

from tests.site_hooks_loader import load_hook

cache = load_hook("template_cache")


class CountingEnvironment(Environment):
    """An environment that counts the templates it compiles from source."""

    compiled = 0

    def compile(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        type(self).compiled += 1
        return super().compile(*args, **kwargs)


def _rebuild(store: dict[str, bytes], templates: dict[str, str]) -> CountingEnvironment:
    """A new environment, as each serve rebuild makes, over the kept store."""
    env = CountingEnvironment(loader=DictLoader(templates))
    env.bytecode_cache = cache.KeptBytecode(store)
    return env


@pytest.fixture(autouse=True)
def _count_from_zero() -> None:
    CountingEnvironment.compiled = 0


def test_an_unchanged_template_is_compiled_once_over_rebuilds() -> None:
    store: dict[str, bytes] = {}
    templates = {"page.html": "{% for n in items %}<{{ n }}>{% endfor %}"}
    for _ in range(3):
        assert _rebuild(store, templates).get_template("page.html").render(items=[1, 2]) == (
            "<1><2>"
        )
    assert CountingEnvironment.compiled == 1


def test_an_edited_template_is_compiled_anew_and_rendered_as_edited() -> None:
    store: dict[str, bytes] = {}
    _rebuild(store, {"page.html": "old {{ x }}"}).get_template("page.html").render(x=1)
    edited = _rebuild(store, {"page.html": "new {{ x }}"})
    assert edited.get_template("page.html").render(x=1) == "new 1"
    assert CountingEnvironment.compiled == 2


def _config(handler_env: Environment | None) -> Any:
    handlers = SimpleNamespace(get_handler=lambda name: SimpleNamespace(env=handler_env))
    plugins = {} if handler_env is None else {"mkdocstrings": SimpleNamespace(handlers=handlers)}
    return SimpleNamespace(plugins=plugins)


@pytest.mark.parametrize("command", ["serve", "build"])
def test_only_serve_keeps_the_code_of_both_environments(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["mkdocs", command])
    theme, handler = Environment(), Environment()
    cache.on_pre_build(_config(handler))
    assert cache.on_env(theme, _config(handler), None) is theme
    kept = command == "serve"
    assert isinstance(theme.bytecode_cache, cache.KeptBytecode) is kept
    assert isinstance(handler.bytecode_cache, cache.KeptBytecode) is kept
    cache.on_pre_build(_config(None))  # a site without mkdocstrings: nothing to keep
