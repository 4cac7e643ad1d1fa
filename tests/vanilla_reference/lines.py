r"""The vanilla model's written-out terms broken into lines (`derivations.render.lines`' rules).

`broken_product` joins a term's factors for an ``aligned`` row, a new line every
`FACTORS_PER_LINE` factors; `check_written` is the one limit on what is written out
term by term.
"""

from __future__ import annotations

from derivations.core.errors import TooLargeError
from derivations.core.spec import ModelSpec
from derivations.render.lines import (
    CONTINUED_PRODUCT,
    FACTORS_PER_LINE,
    MAX_WRITTEN_STEPS,
    balanced,
)
from vanilla_reference.gradients import pairs
from vanilla_reference.terms import Factor

__all__ = ["broken_product", "check_written"]


def broken_product(factors: tuple[Factor, ...], spec: ModelSpec) -> str:
    """A chain of factors for an ``aligned`` row, continued on new lines when long."""
    parts = [p for p in (f.latex(spec) for f in factors) if p] or ["I"]
    return CONTINUED_PRODUCT.join(r"\,".join(line) for line in balanced(parts, FACTORS_PER_LINE))


def check_written(name: str, spec: ModelSpec) -> None:
    if spec.T > MAX_WRITTEN_STEPS:
        n = len(pairs(name, spec.T))
        raise TooLargeError(
            f"T={spec.T} gives {n} terms for dL/d{name}, too many to write out (the written-out "
            f"form stops at T <= {MAX_WRITTEN_STEPS}). Ask for the compact form (--form compact: "
            f"sums and products, any T) or use --steps {MAX_WRITTEN_STEPS} or fewer."
        )
