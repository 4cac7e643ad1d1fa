"""What a cell is declared from: its parameters, states, equations and rnnnum's stacking.

Each declaration's LaTeX, left out, is derived from its name
(`derivations.core.names.derived_latex`): never an empty formula.
"""

from __future__ import annotations

from dataclasses import dataclass

from derivations.core.names import derived_latex
from derivations.core.nodes import Node

__all__ = ["Equation", "Param", "Stack", "State"]


@dataclass(frozen=True)
class Param:
    """A parameter: a (rows, H) weight matrix with rows ``"D"`` or ``"H"``, a bias (rows None),
    or a scalar (rows None, cols ``"1"``), broadcast over a row.

    ``latex`` is how the pages write it (``W_{xf}``, ``b_{xr}``; left out, it is derived
    from the name: ``Wxf`` -> ``W_{xf}``); ``meaning`` says what it is.
    """

    name: str
    rows: str | None
    cols: str = "H"
    latex: str = ""
    meaning: str = ""

    def __post_init__(self) -> None:
        _derive_latex(self)

    def shape(self, D: int, H: int, V: int | None = None) -> tuple[int, int]:
        """The concrete shape: ``(D, H)``, ``(H, H)``, a bias ``(1, H)``, a scalar ``(1, 1)``;
        a read-out's ``(H, V)`` or ``(1, V)`` (cols ``"V"``, which needs `V`)."""
        if self.cols == "V" and V is None:
            raise ValueError(f"{self.name} is a read-out parameter (cols V): pass V")
        sizes = {"D": D, "H": H, None: 1, "1": 1, "V": V}
        rows, cols = sizes[self.rows], sizes[self.cols]
        assert rows is not None and cols is not None
        return rows, cols


@dataclass(frozen=True)
class State:
    """A state carried from step to step (``h``; the LSTM also ``c``), width H.

    ``latex`` left out is derived from the name (``h`` -> ``h``).
    """

    name: str
    latex: str = ""

    def __post_init__(self) -> None:
        _derive_latex(self)


@dataclass(frozen=True)
class Equation:
    """``name = expr`` at step t; ``latex`` is the variable's LaTeX without its step (``a^{i}``;
    left out, derived from the name)."""

    name: str
    expr: Node
    latex: str = ""

    def __post_init__(self) -> None:
        _derive_latex(self)


def _derive_latex(item: Param | State | Equation) -> None:
    """A blank ``latex`` becomes the one derived from the name, never an empty formula."""
    if not item.latex and isinstance(item.name, str):
        object.__setattr__(item, "latex", derived_latex(item.name))


@dataclass(frozen=True)
class Stack:
    """How `rnnnum` stacks per-gate parameters: ``blocks`` side by side as column blocks.

    ``Stack("Wx", ("Wxi", "Wxf", "Wxo", "Wxg"))`` is the LSTM's (D, 4H) ``Wx``; for a
    stack of biases the blocks are concatenated, (4H,).
    """

    name: str
    blocks: tuple[str, ...]
