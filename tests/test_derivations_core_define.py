"""core/define: what of a class body becomes a line, and the words of its refusals.

The front door's cells, node for node, are in tests/test_derivations_core_write.py;
here the edges of reading a body: names Python itself gives a class (``__module__``,
``__qualname__``, ``__doc__``; a dunder holding an expression likewise) are never
lines, and the error for a missing ``h`` lists the lines there are, as written.
"""

from __future__ import annotations

import pytest

from derivations.core.cell import Add, CellDefinitionError, Func, Input, MatMul, Prev
from derivations.core.define import cell, define_cell
from derivations.core.write import matrix, prev, sigmoid, tanh, x

W, U = matrix(rows="D"), matrix(rows="H")


def test_a_dunder_name_is_never_a_line_even_holding_an_expression() -> None:
    body = {"W": W, "U": U, "__scratch__": sigmoid(x @ W), "h": tanh(x @ W + prev.h @ U)}
    made = define_cell("dunder", body)
    assert [eq.name for eq in made.equations] == ["h"]
    assert made.equations[0].expr == Func("tanh", Add(MatMul(Input(), "W"), MatMul(Prev("h"), "U")))


def test_a_body_without_h_lists_its_lines_as_written() -> None:
    with pytest.raises(CellDefinitionError, match=r"no line defines h \(lines: s, z\)\."):
        define_cell("two", {"W": W, "s": tanh(x @ W), "z": sigmoid(x @ W)})
    with pytest.raises(CellDefinitionError, match=r"no line defines h \(lines: none\)\."):
        define_cell("empty", {"W": W})


def test_the_decorator_with_arguments_keeps_the_default_activation() -> None:
    @cell(name="named")
    class body:
        W_xh = matrix(rows="D")
        W_hh = matrix(rows="H")
        h = tanh(x @ W_xh + prev.h @ W_hh)

    assert (body.name, body.activation) == ("named", "tanh")
