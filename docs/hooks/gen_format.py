"""Small Markdown formatting helpers shared by the generator jobs."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

#: The seed of every random draw on the site's pages.
SEED = 2013
#: The steps of the ``sym.<name>.<step>`` fragments (vanilla and gated cells' symbols).
SYMBOL_STEPS = (1, 2, 3, "k", "i", "t", "t-1", "t-d", "T", "T-d")


class ChecksFailed(Exception):
    """A check or proof failed while generating the site; the message lists which."""


def sci(x: float, digits: int = 1) -> str:
    """A float in scientific notation for tables: ``sci(3.2e-15) == '3.2e-15'``; 0 as 0."""
    return "0" if x == 0 else f"{x:.{digits}e}"


def code(text: str) -> str:
    """Inline code."""
    return f"`{text}`"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (with blank lines around it, so it can sit inside any page)."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n\n" + "\n".join(lines) + "\n\n"


def math(latex: str) -> str:
    """Inline math for arithmatex."""
    return rf"\({latex}\)"


def fragment(name: str) -> str:
    """A placeholder of a fragment of another job (``fragment("sym.Whh")``), filled in
    when the page is (``site.fill``): how a job that does not import `derivations`
    writes the notation's symbols."""
    return "{{ " + name + " }}"


def display(latex: str) -> str:
    """Display math for arithmatex, as its own block."""
    return "\n\n$$\n" + latex + "\n$$\n\n"


def claim(holds: bool, statement: str) -> None:
    """A sentence the prose states about a computed result: if false, the build fails."""
    if not holds:
        raise ChecksFailed(f"the prose says: {statement}; the numbers computed now disagree")


def fmt(x: float, digits: int = 3) -> str:
    """A number for prose: `digits` significant digits, scientific when tiny or huge."""
    if x == 0 or not np.isfinite(x):
        return {"inf": "∞", "-inf": "−∞", "nan": "NaN"}.get(str(x), str(x))
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return rf"\({mantissa} \times 10^{{{int(exponent)}}}\)"


def matrix(rows: Sequence[Sequence[float]]) -> str:
    """LaTeX of a small numeric matrix, each entry printed with up to 3 significant digits."""
    body = r" \\ ".join(" & ".join(f"{x:.3g}" for x in row) for row in rows)
    return r"\begin{pmatrix} " + body + r" \end{pmatrix}"


#: Plain notation in a label: a letter (or σ, γ) with an underscore index, and the value
#: it is set to if any: ``b_f = -3``, ``σ_max = 0.5``, ``h_18``, ``W_hh``.
PLAIN_SYMBOL = re.compile(
    r"(?<![\\\w])([A-Za-zσγδ])_(\{[^{}]+\}|[A-Za-z0-9]+)(\s*=\s*[-−]?\d+(?:\.\d+)?)?(?!\w)"
)
_GREEK = {"σ": r"\sigma", "γ": r"\gamma", "δ": r"\delta"}


def plain_symbol(name: str, index: str) -> str:
    """LaTeX of one plain symbol, the rule of the figures' labels: ``b``, ``f`` -> ``b_{f}``."""
    index = index.strip("{}")
    return f"{_GREEK.get(name, name)}_{{{r'\max' if index == 'max' else index}}}"


def plain_math(text: str, symbol: Callable[[str, str], str] = plain_symbol) -> str:
    r"""A label of `rnnnum` (plain text) with each symbol as inline math, its value inside:
    ``plain_math("b_f = -3: gates close") == r"\(b_{f} = -3\): gates close"``.

    `symbol` gives the LaTeX of (name, index); the default writes what the label says,
    as the figures' labels do (`gen_gated_plots.label`).
    """

    def one(match: re.Match[str]) -> str:
        value = (match[3] or "").replace("−", "-")
        return math(symbol(match[1], match[2]) + (" " + " ".join(value.split()) if value else ""))

    return PLAIN_SYMBOL.sub(one, text)
