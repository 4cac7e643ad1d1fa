# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Derive your own cell
#
# Everything on this site is computed from cells written once, as equations. This page
# does the same for two cells that are not built in, written in the few lines their
# equations take: the engine derives their expanded sums and backward loops, and the
# checks compare those with finite differences of the cells' forward passes. The page is
# a notebook, executed every time the site is built: every formula and number below is
# what the code above it printed. Download it with the button at the top of the page
# and run it next to an installed copy of the project (`pip install -e .` in the
# repository).
#
# The first cell is a minimal gated unit with a ReLU candidate beside its sigmoid gate:
# the gate f decides, unit by unit, how much of the candidate n replaces the old state.
# Each line declares parameters (`matrix(rows="D")` is a (D, H) weight, `vector()` a
# row of H) or defines a variable of step t from `x` ($x_t$), `prev.h` ($h_{t-1}$), the
# operators and one function. The second is a
# recurrence with *multiplicative integration*: the input's and the state's
# contributions are multiplied, element by element, instead of added, and a vector
# $\alpha$ scales the product.

# %%
import subprocess
import sys
import tempfile
from pathlib import Path

from IPython.display import display

from derivations import (
    cell,
    cell_loop_code,
    derive,
    load_cell,
    matrix,
    prev,
    relu,
    sigmoid,
    tanh,
    vector,
    verify_cell,
    x,
)
from derivations.check.loop_sum import prove_cell_loop_equals_sum


@cell
class mgu:  # a minimal gated unit
    W_xf, W_hf, b_f = matrix(rows="D"), matrix(rows="H"), vector()
    W_xn, W_hn, b_n = matrix(rows="D"), matrix(rows="H"), vector()
    f = sigmoid(x @ W_xf + prev.h @ W_hf + b_f)  # the gate
    n = relu(x @ W_xn + prev.h @ W_hn + b_n)  # the candidate
    h = (1 - f) * prev.h + f * n


@cell
class mi_rnn:  # multiplicative integration
    W_xh, W_hh = matrix(rows="D"), matrix(rows="H")
    b_h, alpha = vector(), vector()
    h = tanh(alpha * (x @ W_xh) * (prev.h @ W_hh) + b_h)


display(mgu)

# %% [markdown]
# A cell shows itself as its equations, the LaTeX derived from the names in the code
# (`W_xf` is $W_{xf}$, `alpha` is $\alpha$). Its parameters, each with its shape:

# %%
print(repr(mgu))
print(repr(mi_rnn))
display(mi_rnn)

# %% [markdown]
# ## The expanded sum
#
# `derive(cell, w, T)` is the Python side of `unrolled derive`: the gradient of the loss
# $L = \sum_i L_i$ with respect to one parameter, as the sum over losses $L_i$ and steps
# $k$ of terms, each term a sum over the paths through the cell's equations. Here the
# gradient of the candidate's recurrent weights $W_{hn}$, over three steps. For any T
# first, with the one-step Jacobian $J_t$ written from the cell's equations:

# %%
display(derive(mgu, "Whn", 3, form="compact"))

# %% [markdown]
# The same gradient written out, term by term: every term (i, k), each with the
# products of every path from the loss $L_i$ to the candidate at step k. One of them,
# the term of $L_2$ through step 1, whose paths cross the one-step Jacobian $J_2$ once
# for each of its products:

# %%
written = derive(mgu, "Whn", 3)
print(f"{len(written)} terms, {sum(t.path_count() for t in written)} path products")
display(written[1])  # the term (i, k) = (2, 1)

# %% [markdown]
# The candidate's ReLU enters each path as $\operatorname{diag}$ of its slope, 1 where
# the candidate's pre-activation is positive and 0 where it is not. For the
# multiplicative cell, each step's Jacobian holds the input's contribution:

# %%
display(derive(mi_rnn, "alpha", 3, form="compact"))

# %% [markdown]
# ## The backward loop
#
# The loop that computes these sums without writing them out, printed from the same
# plan the engine runs on symbols: one carry per state, each equation's adjoint in
# reverse order.

# %%
print(cell_loop_code(mgu, ("Whf", "Whn")))

# %% [markdown]
# ## Checked
#
# Neither cell has a numeric twin in `rnnnum`, so the checks compare the engine with
# something that uses no derivative at all: central finite differences of each cell's
# forward pass, written as NumPy from the cell's equations. The compiled loop is
# compared with them, every term (i, k) of the expanded sum is compared with the
# finite differences of $L_i$ when only the step-k copy of the parameter moves, and the
# terms' sum with the loop. The points are drawn away from the ReLU's kink, where no
# finite difference means anything.

# %%
table = verify_cell(mgu, steps=range(1, 4))  # T = 1, 2, 3, both losses
print(table.text())
assert table.passed

# %% [markdown]
# The multiplicative cell, likewise (the summary lines of its table):

# %%
table = verify_cell(mi_rnn, steps=range(1, 4))
print("\n".join(table.text().splitlines()[-3:]))
assert table.passed

# %% [markdown]
# The loop is also proven, not only checked: SymPy expands, for every gradient, what each
# iteration adds minus the terms it should add, and finds exactly zero. For the ReLU
# cell it does so once per sign pattern of the candidate's pre-activation.

# %%
for mine in (mgu, mi_rnn):
    proofs = prove_cell_loop_equals_sum(mine, T=2, D=1, H=2, V=2)
    held = sum(p.holds for p in proofs)
    entries = sum(p.entries for p in proofs)
    print(f"{mine.name}: {held} of {len(proofs)} gradients proven at T = 2 ({entries} entries)")
    assert held == len(proofs)

# %% [markdown]
# ## A read-out of your own
#
# Every cell above reads its output out as $y_t = h_t W_{yh} + b_y$, the default. A line
# `y = ...` in the class body replaces it; the loss then reaches each state through the
# read-out's own local derivative $\partial y_t/\partial h_t$, which the compact sum
# shows in place of $W_{yh}^\top$:


# %%
@cell
class squashed:  # the multiplicative cell, read out through tanh
    W_xh, W_hh = matrix(rows="D"), matrix(rows="H")
    b_h, alpha = vector(), vector()
    W_yh, b_y = matrix(rows="H"), vector()
    h = tanh(alpha * (x @ W_xh) * (prev.h @ W_hh) + b_h)
    y = tanh(h) @ W_yh + b_y


display(squashed)
display(derive(squashed, "h0", 3, form="compact"))
table = verify_cell(squashed, steps=range(1, 4))
print("\n".join(table.text().splitlines()[-3:]))
assert table.passed

# %% [markdown]
# ## From the shell
#
# The same cell, saved in a module, is a `--cell` for every command of `unrolled`; the
# command finds the module in the current directory. The engine's names drop the
# underscores of the code (`W_hf` is `Whf`). Here the module is written to a fresh
# folder and the commands run there, as they would in a terminal:

# %%
MODULE = """\
from derivations import cell, matrix, prev, relu, sigmoid, vector, x


@cell
class mgu:
    W_xf, W_hf, b_f = matrix(rows="D"), matrix(rows="H"), vector()
    W_xn, W_hn, b_n = matrix(rows="D"), matrix(rows="H"), vector()
    f = sigmoid(x @ W_xf + prev.h @ W_hf + b_f)
    n = relu(x @ W_xn + prev.h @ W_hn + b_n)
    h = (1 - f) * prev.h + f * n
"""

with tempfile.TemporaryDirectory() as folder:
    Path(folder, "mycells.py").write_text(MODULE)
    for args in (
        ["params", "--cell", "mycells:mgu"],
        ["jacobian", "--cell", "mycells:mgu", "--from", "3", "--to", "2"],
        ["verify", "--cell", "mycells:mgu", "--steps", "2"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "derivations", *args],
            cwd=folder, capture_output=True, text=True, check=True,
        )  # fmt: skip
        print("$ unrolled", " ".join(args))
        lines = done.stdout.splitlines()
        print("\n".join(lines if args[0] != "verify" else ["...", *lines[-3:]]), end="\n\n")
    # the module's cell is the one defined above, equation for equation
    sys.path.insert(0, folder)
    assert load_cell("mycells:mgu") == mgu
    sys.path.remove(folder)
