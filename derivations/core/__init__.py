"""The definitions everything else reads: a cell written once as equations.

`nodes` (the expression trees of an equation) and `factors` (the local factors of a
chain rule: weights, diagonals, transposes) -> `ops` (each operation's local derivative)
-> `cell` (a `Cell`: its states, parameters, equations and read-out) -> `cells` (the
built-in cells and the loader of a user's own); beside them `notation` (names and
LaTeX, the row-vector convention), `spec` (T, activation, loss and sizes: the choices a
derivation is asked for) and `errors`.
"""
