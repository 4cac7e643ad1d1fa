"""The named fragments the hand-written pages use as ``{{ name }}``.

Formulas come from `derivations` (its renderers and notation), numbers from `rnnnum`
computations made here, at build time. Each fragment is Markdown: inline math
``\\(...\\)``, display math ``$$...$$``, a table or a plain number. This is one of the
places where the symbolic and the numeric halves meet (with the tests and
`derivations.vanilla.verify`).

Symbols in a sentence are always one of these inline fragments (the build fails on
plain ``h_t`` in prose, see ``prose_check.py``):

- ``sym.<name>``: a quantity of the notation by its code name, at step t if it has one
  (``sym.Whh`` is W_hh, ``sym.h`` is h_t, ``sym.h0`` is h_0); ``sym.<name>.<step>`` at
  another step, one of `SYMBOL_STEPS` (``sym.h.t-1``, ``sym.X.k``, ``sym.L.i``);
- ``d.<of>.<by>``: a total derivative written inline, ``p.<of>.<by>`` a local one; each
  side a code name, with ``_<step>`` for a per-step quantity: ``d.h_i.h_k`` is
  dh_i/dh_k, ``d.L.Whh`` is dL/dW_hh, ``p.L_t.y_t`` is ∂L_t/∂y_t (the list:
  `TOTAL_DERIVATIVES`, `LOCAL_DERIVATIVES`);
- the gated cells' symbols, ``sym.<cell>.<name>[.<step>]``, ``d.<cell>.<of>.<by>`` and
  ``eq.<cell>.<equation>``: see ``gen_cell_fragments.py``.

Made in three stages, a module each, gathered here by `prose_fragments`: the notation
(``gen_fragments_notation.py``), the formulas printed by `derivations`
(``gen_fragments_formulas.py``) and the numbers computed by `rnnnum`
(``gen_fragments_measured.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from gen_fragments_formulas import (
    local_fragments,
    loop_fragments,
    model_fragments,
    path_fragments,
    statement_fragments,
    sum_fragments,
)
from gen_fragments_measured import column_fragments, vanishing_fragments
from gen_fragments_notation import notation_fragments

FRAGMENT_GROUPS: tuple[Callable[[], dict[str, str]], ...] = (
    notation_fragments,
    model_fragments,
    local_fragments,
    path_fragments,
    sum_fragments,
    loop_fragments,
    vanishing_fragments,
    column_fragments,
    statement_fragments,
)


def prose_fragments() -> dict[str, str]:
    """Every fragment of the hand-written pages."""
    out: dict[str, str] = {}
    for group in FRAGMENT_GROUPS:
        produced = group()
        clash = out.keys() & produced.keys()
        if clash:
            raise AssertionError(f"fragment names defined twice: {sorted(clash)}")
        out.update(produced)
    return out
