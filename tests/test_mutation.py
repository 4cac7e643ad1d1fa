"""The mutator of tests/mutation.py on tiny sources: which mutants, and how they end.

The campaign itself (every mutant of the symbolic core against its tests) is a command,
``.venv/bin/python tests/mutation.py``, like a benchmark; here only the tool is checked.
"""

from __future__ import annotations

from pathlib import Path

from mutation import EQUIVALENT, MODULES, ROOT, Runner, mutants, run_mutants

TINY = '''"""A docstring: never mutated."""

__all__ = ["scale"]


def scale(x: float, m: Any, flag: bool = True) -> float:
    """Nor this one."""
    if x < 0 and flag:
        raise ValueError(f"x must be >= 0; got {x - 1}")
    assert x == x, "not a NaN"
    return -x * 2 + m.T


@lru_cache(maxsize=2)
def label(name: str, t: int) -> str:
    return f"{name}_{t - 1}" if not name in "hc" else "state"
'''


def test_a_tiny_source_yields_the_listed_mutants_and_nothing_else() -> None:
    """Docstrings, __all__, annotations, decorators, raise and assert messages are left alone."""
    found = [(m.line, m.operator, m.lines(TINY)[1].strip()) for m in mutants(TINY)]
    assert found == [
        (6, "True -> False", "def scale(x: float, m: Any, flag: bool = False) -> float:"),
        (8, "< -> <=", "if x <= 0 and flag:"),
        (8, "0 -> 1", "if x < 1 and flag:"),
        (8, "and -> or", "if x < 0 or flag:"),
        (10, "== -> !=", 'assert x != x, "not a NaN"'),
        (11, "- dropped", "return x * 2 + m.T"),
        (11, "minus added", "return -(-x * 2 + m.T)"),
        (11, "* -> /", "return -x / 2 + m.T"),
        (11, "2 -> 3", "return -x * 3 + m.T"),
        (11, "+ -> -", "return -x * 2 - m.T"),
        (11, ".T dropped", "return -x * 2 + m"),
        (16, "f-string text changed",
         'return f"{name}XX_{t - 1}" if not name in "hc" else "state"'),
        (16, "- -> +", 'return f"{name}_{t + 1}" if not name in "hc" else "state"'),
        (16, "1 -> 2", 'return f"{name}_{t - 2}" if not name in "hc" else "state"'),
        (16, "not dropped", 'return f"{name}_{t - 1}" if name in "hc" else "state"'),
        (16, "in -> not in", 'return f"{name}_{t - 1}" if not name not in "hc" else "state"'),
        (16, "string changed", "return f\"{name}_{t - 1}\" if not name in 'XXhcXX' else \"state\""),
        (16, "string changed", "return f\"{name}_{t - 1}\" if not name in \"hc\" else 'XXstateXX'"),
    ]  # fmt: skip


def test_a_mutant_is_killed_by_a_test_that_notices_and_an_equivalent_one_survives(
    tmp_path: Path,
) -> None:
    """x + 0 -> x - 0 changes nothing; * -> / halves instead of doubling."""
    source = "def double(x):\n    return (x + 0) * 2\n"
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "__init__.py").write_text("")
    (tmp_path / "tiny" / "calc.py").write_text(source)
    (tmp_path / "tests").mkdir()  # away from the package: pytest puts this folder on sys.path
    (tmp_path / "tests" / "test_calc.py").write_text(
        "from tiny.calc import double\n\ndef test_double():\n    assert double(3) == 6\n"
    )
    by_operator = {m.operator: m for m in mutants(source, "tiny/calc.py")}
    chosen = [by_operator["+ -> -"], by_operator["* -> /"]]
    runner = Runner(tmp_path, ["tests/test_calc.py"], timeout=60)
    outcomes = run_mutants(runner, chosen, source)
    assert [(o.mutant.operator, o.status) for o in outcomes] == [
        ("+ -> -", "survived"),
        ("* -> /", "killed"),
    ]
    assert (tmp_path / "tiny" / "calc.py").read_text() == source  # never written


def test_every_reviewed_equivalent_is_a_mutant_of_the_present_source() -> None:
    """An entry that no longer matches a mutant (its line was edited) is stale: it must be
    reviewed again or removed, not left to look like a reviewed survivor."""
    present = set()
    for path in MODULES:
        source = (ROOT / path).read_text(encoding="utf-8")
        for m in mutants(source, path):
            before, after = m.lines(source)
            present.add((path, before.strip(), after.strip()))
    assert set(EQUIVALENT) - present == set()
    assert all(reason.strip() for reason in EQUIVALENT.values())
