"""Small Markdown formatting helpers shared by the generator jobs."""

from __future__ import annotations

from collections.abc import Sequence


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


def display(latex: str) -> str:
    """Display math for arithmatex, as its own block."""
    return "\n\n$$\n" + latex + "\n$$\n\n"
