r"""How a name in code becomes a name in the engine and on the page.

The front door (`derivations.core.write`) lets a cell be written with the names one
would put on paper: ``W_xh``, ``b_h``, ``alpha``. The engine's names are ASCII letters
only (they name SymPy symbols such as ``Wxh_0_1``), so a code name loses its
underscores there (`engine_name`); its LaTeX is derived from it (`derived_latex`):
``W_xh`` $\to$ $W_{xh}$, ``b_h`` $\to$ $b_h$, ``alpha`` $\to$ $\alpha$, ``W_hh_2`` $\to$
$W_{hh,2}$. A name the engine already has (``Wxh``, ``bh``) reads the same way: its
first letter, then the rest as the subscript.
"""

from __future__ import annotations

import re

__all__ = ["GREEK", "derived_latex", "engine_name"]

#: Greek letters a name may spell out; each becomes its LaTeX command.
GREEK = frozenset(
    (
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Pi",
        "Sigma",
        "Upsilon",
        "Phi",
        "Psi",
        "Omega",
    )
)
_CODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def engine_name(code: str) -> str:
    """The engine's name for a code name: its underscores dropped (``W_xh`` -> ``Wxh``)."""
    return code.replace("_", "")


def _base(text: str) -> str:
    return rf"\{text}" if text in GREEK else text


def _sub(text: str) -> str:
    return text if len(text) == 1 else f"{{{text}}}"


def derived_latex(code: str) -> str:
    r"""The LaTeX a code name is written with when none is given.

    ``W_xh`` -> ``W_{xh}``, ``b_h`` -> ``b_h``, ``alpha`` -> ``\alpha``, ``alpha_f``
    -> ``\alpha_f``, ``W_hh_2`` -> ``W_{hh,2}``; a name without an underscore is a
    Greek letter, one letter, or a letter with its subscript run on (``Wxh`` ->
    ``W_{xh}``, ``bh`` -> ``b_h``).
    """
    if not _CODE_NAME.fullmatch(code):
        return code
    if "_" in code:
        base, *subs = [part for part in code.split("_") if part]
        if not subs:
            return _base(base)
        return f"{_base(base)}_{_sub(','.join(_base(s) for s in subs))}"
    if code in GREEK or len(code) == 1:
        return _base(code)
    greek = next((g for g in sorted(GREEK, key=len, reverse=True) if code.startswith(g)), None)
    head = greek or code[0]
    return f"{_base(head)}_{_sub(code[len(head) :])}"
