"""The gradient of an unrolled cell, derived: expanded sums, paths and the loop.

`links` (the one-step Jacobian blocks between states) -> `sums` (the expanded sum over
losses i and steps k, each (i, k) term a sum over paths) -> `paths` and `named_paths`
(the paths of a term, with their names) and `loop` (the backward loop, one carry per
state).
"""
