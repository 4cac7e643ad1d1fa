"""The site's general statements about cells, read against the cells' own numbers.

`derivations.render.formulas` prints the residual step, the column convention and the
product bounds from the cells. Here each printed object is evaluated and compared
with something computed another way: the column-convention Jacobian with central
differences of the column-form update written in NumPy (and with the row block's
transpose), the bounds with the actual norms of products of one-step Jacobians
(`rnnnum.jacobian_products` on a forward pass, and matrices s Q where the bound is
an equality).
"""

from __future__ import annotations

import numpy as np
import pytest

import rnnnum
from derivations.core.cell import Cell
from derivations.core.cells import BUILTIN_CELLS, residual, vanilla
from derivations.core.errors import DerivationError
from derivations.core.factors import LocalSum, Scope
from derivations.core.notation import ACTIVATION_NAMES, step_position
from derivations.render.formulas import (
    PASCANU_NAMES,
    column_block,
    column_equation,
    column_notation,
    column_scope,
    generic_equation,
    generic_sum,
    piece_bounds,
    product_bound,
    step_derivative,
)

D, H = 2, 4  # D != H: a transposed weight would have the wrong shape
#: float64 matrix products of O(1) entries, compared after a few roundings
RTOL = 1e-12
#: central differences with step 1e-6 on O(1) entries: truncation ~1e-12, rounding ~1e-10;
#: a transposed Jacobian is off by O(0.1)
FD_ATOL = 1e-8
#: a pre-activation where |f'| reaches its supremum gamma (tanh, sigmoid: 0; the ReLUs: a > 0)
AT_SUPREMUM = {"tanh": 0.0, "sigmoid": 0.0, "relu": 1.0, "leaky_relu": 1.0, "identity": 0.3}


def _scope(cell: Cell, rng: np.random.Generator, scale: float = 1.0) -> Scope:
    """Random parameters, x_t and states at t-1; the step's variables from the cell's equations."""
    params = {}
    for p in cell.params:
        value = scale * rng.standard_normal(p.shape(D, H))
        params[p.name] = value.reshape(-1) if p.rows is None else value
    x = rng.standard_normal(D)
    prev = {s: rng.standard_normal(H) for s in cell.state_names}
    refs = cell.evaluate(Scope(x, prev, {}, params, cell.activation))
    return Scope(x, prev, refs, params, cell.activation)


def _orthogonal(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    return q


# --- the printed statements ------------------------------------------------------------


def test_the_residual_step_and_its_jacobian_are_printed_from_the_cell() -> None:
    cell = residual("sigmoid")  # printed for any f: the cell's own activation does not show
    assert generic_equation(cell, "h", inline=("a",)) == (
        r"h_{t} = h_{t-1} + f\big(x_{t} W_{xh} + h_{t-1} W_{hh} + b_h\big)"
    )
    assert step_derivative(cell) == (
        r"\frac{\mathrm{d} h_{t}}{\mathrm{d} h_{t-1}} = I + W_{hh}\,\operatorname{diag}(f'(a_{t}))"
    )
    # without inlining, the equation reads a_t
    assert generic_equation(cell, "h") == r"h_{t} = h_{t-1} + f(a_{t})"


def test_the_column_model_transposes_every_product() -> None:
    cell = vanilla()
    assert (
        column_equation(cell, "h", inline=("a",)) == r"h_{t} = f\big(W x_{t} + U h_{t-1} + b\big)"
    )
    assert column_equation(cell, "a", t=2) == r"a_{2} = W x_{2} + U h_{1} + b"


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_the_column_jacobian_is_central_differences_of_the_column_update(
    activation: str, rng: np.random.Generator
) -> None:
    cell = vanilla(activation)
    scope = _scope(cell, rng)
    U, W, b = (scope.params[n].T for n in ("Whh", "Wxh", "bh"))
    f = {"tanh": np.tanh, "sigmoid": lambda a: 1 / (1 + np.exp(-a))}[activation]

    def step(h: np.ndarray) -> np.ndarray:  # the column form, written independently
        return f(U @ h + W @ scope.x + b)

    eps = 1e-6
    h = scope.prev["h"]
    theirs = np.column_stack(
        [(step(h + eps * e) - step(h - eps * e)) / (2 * eps) for e in np.eye(H)]
    )  # entry (l, j) = d h_t,l / d h_{t-1},j
    block = cell.step_jacobian_blocks()["h", "h"]
    printed = column_block(block).value(column_scope(scope), H, H)
    np.testing.assert_allclose(printed, theirs, rtol=0, atol=FD_ATOL)
    assert generic_sum(column_block(block), "t", column_notation(cell)) == (
        r"\operatorname{diag}(f'(a_{t}))\,U"
    )


@pytest.mark.parametrize("name", list(BUILTIN_CELLS))
def test_every_column_block_is_the_transpose_of_its_row_block(
    name: str, rng: np.random.Generator
) -> None:
    cell = BUILTIN_CELLS[name]()
    scope = _scope(cell, rng)
    for key, block in cell.step_jacobian_blocks().items():
        row = block.value(scope, H, H)
        column = column_block(block).value(column_scope(scope), H, H)
        np.testing.assert_allclose(column, row.T, rtol=RTOL, atol=RTOL, err_msg=f"{name} {key}")


def test_pascanu_names_cover_the_vanilla_parameters() -> None:
    assert set(PASCANU_NAMES) == set(vanilla().param_names)


# --- the bounds ------------------------------------------------------------------------


def test_the_bounds_are_printed_from_the_block_pieces() -> None:
    assert product_bound(vanilla("identity"), sigma=False, equality=False) == (
        r"\Big\lVert \frac{\mathrm{d} h_t}{\mathrm{d} h_k} \Big\rVert \le "
        r"\lVert W_{hh} \rVert^{\,t-k}"
    )
    assert product_bound(vanilla("sigmoid")) == (
        r"\Big\lVert \frac{\mathrm{d} h_t}{\mathrm{d} h_k} \Big\rVert = \Big\lVert "
        r"\prod_{s=k+1}^{t} W_{hh}\,\operatorname{diag}(f'(a_{s})) \Big\rVert \le "
        r"\big(\gamma\,\sigma_{\max}(W_{hh})\big)^{t-k}"
    )


def _bound(cell: Cell, block: LocalSum, scope: Scope) -> float:
    return float(np.prod([b.value(scope) for b in piece_bounds(cell, block)]))


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_the_bound_holds_on_rnnnums_products(activation: str, rng: np.random.Generator) -> None:
    T = 6
    params = rnnnum.init_params("spectral", D, H, 3, rng, sigma_max=2.0)
    X = rng.standard_normal((1, T, D))
    cache = rnnnum.forward(params, X, rng.integers(0, 3, size=(1, T)), activation=activation)
    products = rnnnum.jacobian_products(params, cache).matrices[0]  # [i, k] = dh_i/dh_k
    cell = vanilla(activation)
    block = cell.step_jacobian_blocks()["h", "h"]
    weights = {"Wxh": params.Wxh, "Whh": params.Whh, "bh": params.bh}
    h = np.vstack([cache.h0[0], cache.h[0]])  # h[t] = h_t, t = 0..T
    product = np.eye(H)
    for t in range(1, T + 1):
        at = step_position(t)  # the cache and X are by position, h (stacked here) by step
        refs = {"a": cache.a[0, at], "h": h[t]}
        scope = Scope(X[0, at], {"h": h[t - 1]}, refs, weights, activation)
        product = product @ block.value(scope, H, H)  # dh_t/dh_0, row convention
        np.testing.assert_allclose(product, products[t, 0], rtol=RTOL, atol=RTOL)
        bound = _bound(cell, block, scope) ** t
        assert np.linalg.norm(product, 2) <= bound * (1 + RTOL), (activation, t)


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_the_bound_is_reached_by_s_q_where_f_prime_is_gamma(
    activation: str, rng: np.random.Generator
) -> None:
    cell = vanilla(activation)
    block = cell.step_jacobian_blocks()["h", "h"]
    s, n = 1.3, 5
    weights = {"Wxh": np.zeros((D, H)), "Whh": s * _orthogonal(rng), "bh": np.zeros(H)}
    a = np.full(H, AT_SUPREMUM[activation])
    refs = cell.evaluate(
        Scope(np.zeros(D), {"h": np.zeros(H)}, {}, {**weights, "bh": a}, activation)
    )
    scope = Scope(np.zeros(D), {"h": np.zeros(H)}, refs, weights, activation)
    one = block.value(scope, H, H)
    norm = np.linalg.norm(np.linalg.matrix_power(one, n), 2)
    np.testing.assert_allclose(norm, _bound(cell, block, scope) ** n, rtol=RTOL)


def test_a_bound_needs_one_product_of_known_pieces() -> None:
    with pytest.raises(DerivationError, match="one product; got 2"):
        product_bound(residual())
    lstm = BUILTIN_CELLS["lstm"]()
    with pytest.raises(DerivationError, match="no bound is known"):
        piece_bounds(lstm, lstm.step_jacobian_blocks()["c", "c"])
