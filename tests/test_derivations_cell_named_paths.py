"""Named paths and block products of the one-step Jacobians, against rnnnum and the routes."""

from __future__ import annotations

import numpy as np
import pytest
from test_derivations_cell_sums import _problem
from test_derivations_cell_unroll import ATOL, RTOL, H, T

import rnnnum
from derivations.core.cells import gru, residual, vanilla
from derivations.core.errors import UnknownChoiceError
from derivations.gradient.named_paths import (
    block_product_value,
    named_path_latex,
    named_path_value,
    named_paths,
)
from derivations.gradient.paths import routes


@pytest.mark.parametrize("reset", [None, "after", "before"], ids=["lstm", "gru", "gru-before"])
def test_block_products_equal_the_routes_and_rnnnum(reset, rng) -> None:
    name = "lstm" if reset is None else ("gru" if reset == "after" else "gru-before")
    cell, program, trace, params, cache = _problem(name, "mse", rng)
    theirs = rnnnum.jacobian_products(params, cache).matrices[0]  # [i, k] = ds_i/ds_k
    names = cell.state_names
    for i in range(T + 1):
        for k in range(i + 1):
            ours = block_product_value(cell, program, trace, i, k)
            np.testing.assert_allclose(ours, theirs[i, k], rtol=RTOL, atol=ATOL, err_msg=f"{i},{k}")
            if i == k:
                continue
            for (c, of), (r, wrt) in [(a, b) for a in enumerate(names) for b in enumerate(names)]:
                by_routes = np.zeros((H, H))
                for route in routes(cell, i, k, of=of, wrt=wrt):
                    product = np.eye(H)
                    for j in reversed(range(len(route.blocks))):
                        scope = program.numeric_scope(trace, i - j)
                        product = product @ route.blocks[j].value(scope, H, H)
                    by_routes += product
                block = ours[r * H : (r + 1) * H, c * H : (c + 1) * H]
                np.testing.assert_allclose(block, by_routes, rtol=RTOL, atol=ATOL)


def test_named_paths_the_cell_state_path_the_skip_and_z(rng) -> None:
    cell, program, trace, params, cache = _problem("lstm", "cross_entropy", rng)
    path = rnnnum.cell_state_path(params, cache)[0]  # (T+1, T+1, H) diagonals
    for i in range(T + 1):
        for k in range(i + 1):
            ours = named_path_value(cell, "c", program, trace, i, k)
            forget = np.prod(trace["f"][k + 1 : i + 1], axis=0)  # f_{k+1} ... f_i
            np.testing.assert_allclose(ours, np.diag(path[i, k]), rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(ours, np.diag(forget), rtol=RTOL, atol=ATOL)
    assert (
        named_path_latex(cell, "c", 3, 1)
        == r"\operatorname{diag}(f_{2})\,\operatorname{diag}(f_{3})"
    )
    assert named_path_latex(cell, "c") == r"\prod_{t=k+1}^{i} \operatorname{diag}(f_{t})"
    assert list(named_paths(cell)) == ["c"]  # h_t reads h_{t-1} only through the gates
    assert named_path_latex(residual(), "h", 4, 1) == "I"
    assert named_path_latex(gru(), "h") == r"\prod_{t=k+1}^{i} \operatorname{diag}(z_{t})"
    assert named_paths(vanilla()) == {}
    with pytest.raises(UnknownChoiceError, match="states that have one: none"):
        named_path_latex(vanilla(), "h", 2, 1)
