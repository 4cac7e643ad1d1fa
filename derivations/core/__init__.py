"""The definitions everything else reads: a cell written once as equations.

`nodes` (the expression trees of an equation) and `factors` (the local factors of a
chain rule: weights, diagonals, rows, transposes) -> `ops` (each operation's local
derivative), `arith` (constants, powers, division, scalar parameters) and `functions`
(exp, log, softplus) -> `parts` (parameters, states, equations) -> `cell` (a `Cell`:
its states, parameters, equations and read-out) -> `write` (the front door: a cell's
lines as Python expressions) -> `define` (a class body of such lines to a `Cell`) ->
`cells` (the built-in cells, written in the front door, and the loader of a user's
own); beside them `notation` (names and LaTeX, the row-vector convention), `names`
(code names to the engine's and to LaTeX), `spec` (T, activation, loss and sizes: the
choices a derivation is asked for), `twin` (which `rnnnum` code computes a cell) and
`errors`.
"""
