"""The vanilla RNN derived by hand-structured rules: a second, independent derivation.

Before the cell engine (`derivations`) wrote every page, this pipeline wrote the vanilla
RNN's: its expanded sums come from `gradients.RULES` (one rule per gradient, its chains
of `terms.Factor`s typed in by hand), not from a cell's equations. It is kept here, in
the tests, as the reference the engine is read against: the same terms, the same loop,
the same numbers, reached another way (`unroll` -> `terms` -> `gradients` ->
`lambdified` -> `render`, `proofs`, `verify`). Nothing in the product imports it.
"""

from vanilla_reference.gradients import (
    RULES,
    backward_loop,
    expanded_sum,
    jacobian,
    loop_map,
    pairs,
)
from vanilla_reference.lambdified import Evaluation, Lambdified, lambdify_model
from vanilla_reference.render import (
    compact_latex,
    derivation_json,
    derivation_markdown,
    jacobian_latex,
    written_out_latex,
)
from vanilla_reference.render_loop import elementwise_latex, loop_code
from vanilla_reference.terms import Factor, JacobianProduct, Term
from vanilla_reference.unroll import Unrolled, unroll

__all__ = [
    "RULES",
    "Evaluation",
    "Factor",
    "JacobianProduct",
    "Lambdified",
    "Term",
    "Unrolled",
    "backward_loop",
    "compact_latex",
    "derivation_json",
    "derivation_markdown",
    "elementwise_latex",
    "expanded_sum",
    "jacobian",
    "jacobian_latex",
    "lambdify_model",
    "loop_code",
    "loop_map",
    "pairs",
    "unroll",
    "written_out_latex",
]
