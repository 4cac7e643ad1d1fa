"""``python -m derivations`` (console script ``unrolled``): run any derivation from a shell.

    unrolled derive --param Wxh --steps 3 [--cell CELL] [--activation tanh]
                    [--loss cross_entropy] [--format latex|markdown|json] [--form full|compact]
    unrolled jacobian --from 3 --to 1 [--cell CELL] [--of STATE --wrt STATE] [--steps 3]
                    [--activation tanh] [--form full|compact]
    unrolled verify [--cell CELL] [--steps N] [--detail]
    unrolled params --cell NAME [--format text|json]
    unrolled paths --cell NAME --from I --to K [--of STATE] [--wrt STATE] [--format text|json]

``--cell`` takes a built-in cell (vanilla, residual, lstm, gru, gru-before) or a user's
own as ``package.module:attribute`` (a `derivations.Cell`, or a function returning one;
the module is looked for in the current directory, then on sys.path); without it,
derive and jacobian take the vanilla cell, and verify runs the cell verifier
(`derivations.check.verify`, the one verifier) on the vanilla cell with every activation.
Every cell's derivation is written by one assembler (`derivations.render.page`), the same
text as the site's page of that gradient.

Exit status: 0 on success, 1 when ``verify`` finds a failed check, 2 on a usage error
(the message names the valid choices or the limit and what to do instead), including
every failure to load a user's cell. Warnings (a degenerate cell) go to stderr.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from derivations.check.table import DEFAULT_STEPS
from derivations.cli.loading import load_reporting
from derivations.cli.verify import BUILD_NOTE, MAX_VERIFY_STEPS, run_verify
from derivations.core.cell import Cell
from derivations.core.cells import BUILTIN_CELLS, load_cell
from derivations.core.errors import DerivationError, OutOfRangeError, UnknownChoiceError
from derivations.core.notation import ACTIVATION_NAMES, GRADIENT_NAMES, LOSS_NAMES, total_derivative
from derivations.core.spec import MAX_STEPS, ModelSpec
from derivations.gradient.paths import routes, routes_json, routes_latex, routes_text
from derivations.render.jacobians import state_product_latex
from derivations.render.page import cell_derivation_markdown, cell_derive_json, cell_derive_latex
from derivations.render.sums import block_matrix_latex

__all__ = ["main"]

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unrolled",
        description="Symbolic backpropagation through time: expanded sums, Jacobian products, "
        "and their verification against rnnnum.",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{derive,jacobian,verify,params,paths}"
    )

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--steps",
            type=int,
            default=3,
            metavar="T",
            help=f"sequence length T, 1..{MAX_STEPS} (default 3)",
        )
        p.add_argument("--activation", choices=ACTIVATION_NAMES, default=None, help=_ACT_HELP)
        p.add_argument("--loss", choices=LOSS_NAMES, default="cross_entropy")
        p.add_argument(
            "--form",
            choices=("full", "compact"),
            default="full",
            help="full: every term written out (T <= 10); compact: sum and product signs",
        )

    def cell_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--cell",
            default="vanilla",
            metavar="CELL",
            help=f"a built-in cell ({', '.join(BUILTIN_CELLS)}) or package.module:attribute "
            "for your own (default vanilla)",
        )

    derive = sub.add_parser("derive", help="the expanded sum of one gradient")
    derive.add_argument(
        "--param",
        required=True,
        metavar="PARAM",
        help=f"the gradient dL/dPARAM: for the vanilla cell one of {', '.join(GRADIENT_NAMES)}; "
        "`unrolled params --cell CELL` lists another cell's parameters (its gradients are "
        "those, Wyh, by, X and each initial state, e.g. h0, c0)",
    )
    cell_option(derive)
    model_options(derive)
    derive.add_argument("--format", choices=("latex", "markdown", "json"), default="latex")

    jac = sub.add_parser("jacobian", help="the Jacobian product dh_i/dh_k")
    jac.add_argument(
        "--from", dest="i", type=int, required=True, metavar="I", help="the later step i"
    )
    jac.add_argument(
        "--to", dest="k", type=int, required=True, metavar="K", help="the earlier step k <= i"
    )
    jac.add_argument("--of", default="h", metavar="STATE", help="the later state (default h)")
    jac.add_argument("--wrt", default="h", metavar="STATE", help="the earlier state (default h)")
    cell_option(jac)
    model_options(jac)
    jac.set_defaults(steps=None)

    ver = sub.add_parser(
        "verify", help="check every derivation against rnnnum and finite differences"
    )
    ver.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        metavar="N",
        help=f"check T = 1..N (default {DEFAULT_STEPS}, at most {MAX_VERIFY_STEPS}; {BUILD_NOTE})",
    )
    ver.add_argument("--detail", action="store_true", help="print every check, not the summary")
    ver.add_argument(
        "--cell",
        default=None,
        metavar="CELL",
        help=f"verify one cell ({', '.join(BUILTIN_CELLS)} or package.module:attribute) over "
        "both losses; without it, the vanilla RNN over every activation and loss",
    )
    ver.add_argument("--activation", choices=ACTIVATION_NAMES, default=None, help=_ACT_HELP)

    def cell_options(p: argparse.ArgumentParser) -> None:
        cell_option(p)
        p.add_argument("--activation", choices=ACTIVATION_NAMES, default=None, help=_ACT_HELP)
        p.add_argument("--format", choices=("text", "json"), default="text")

    params = sub.add_parser("params", help="a cell's parameters: names, shapes, LaTeX")
    cell_options(params)
    paths = sub.add_parser("paths", help="the paths from a state at step i back to step k")
    paths.add_argument("--from", dest="i", type=int, required=True, metavar="I")
    paths.add_argument("--to", dest="k", type=int, required=True, metavar="K", help="k < i")
    paths.add_argument("--of", default=None, metavar="STATE", help="the later state (all)")
    paths.add_argument("--wrt", default=None, metavar="STATE", help="the earlier state (all)")
    cell_options(paths)
    return parser


#: The vanilla and residual cells take an activation; the gated ones fix their own.
_ACT_HELP = "the activation of the vanilla or residual cell (default tanh)"


def _cell(args: argparse.Namespace) -> Cell:
    return load_reporting(args.cell, args.activation, args.command)


def _params(args: argparse.Namespace) -> str:
    cell = _cell(args)
    stacked = {name: field for field, names in cell.stacking().items() for name in names}
    rows = [
        {
            "name": p.name,
            "shape": f"({p.rows}, {p.cols})" if p.rows else f"({p.cols},)",
            "latex": p.latex,
            "meaning": p.meaning,
            "stacked_in": stacked.get(p.name),
        }
        for p in (*cell.params, *(cell.readout.params if cell.readout else ()))
    ]
    if args.format == "json":
        return json.dumps({"cell": cell.name, "params": rows}, indent=2)
    width = max(len(str(r["name"])) for r in rows)
    own = len(cell.readout.params) if cell.readout else 0
    readout = f"the last {own}: its own read-out" if own else "read-out Wyh, by shared"
    lines = [f"{len(rows)} parameters of the {cell.name} cell ({readout}):"]
    for r in rows:
        where = f", block of {r['stacked_in']} in rnnnum" if r["stacked_in"] else ""
        lines.append(
            f"{r['name']:<{width}}  {r['shape']:<7} {r['latex']:<10} {r['meaning']}{where}"
        )
    return "\n".join(lines)


def _paths(args: argparse.Namespace) -> str:
    cell = _cell(args)
    if args.i == args.k:
        raise OutOfRangeError(
            f"a path crosses at least one step, so k < i; got i = k = {args.i}. Within one "
            f"step there is no path: ds_{args.i}/ds_{args.i} = I (`unrolled jacobian --from "
            f"{args.i} --to {args.k}` prints it); pick --to {args.i - 1} or earlier for paths."
        )
    found = routes(cell, args.i, args.k, of=args.of, wrt=args.wrt)
    if args.format == "json":
        return json.dumps(routes_json(cell, found), indent=2)
    return routes_text(cell, found)


def _derive(args: argparse.Namespace) -> str:
    cell = _cell(args)
    if args.cell in (None, "vanilla") and args.param not in GRADIENT_NAMES:
        owners = [n for n in BUILTIN_CELLS if args.param in load_cell(n).gradient_names]
        if owners:
            raise DerivationError(
                f"--param {args.param} is not a gradient of the vanilla cell ("
                f"{', '.join(GRADIENT_NAMES)}); it is one of the {', '.join(owners)} cell's: "
                f"add --cell {owners[0]}."
            )
    ModelSpec(T=args.steps)  # the limits on T
    kw = {"form": args.form, "loss": args.loss}
    if args.format == "json":
        return json.dumps(cell_derive_json(cell, args.param, args.steps, **kw), indent=2)
    if args.format == "markdown":
        return cell_derivation_markdown(cell, args.param, args.steps, **kw)
    return cell_derive_latex(cell, args.param, args.steps, **kw)


def _jacobian(args: argparse.Namespace) -> str:
    steps = args.steps if args.steps is not None else max(args.i, 1)
    cell = _cell(args)
    one_state = len(cell.state_names) == 1 and args.of == args.wrt == cell.state_names[0]
    if one_state:
        ModelSpec(T=steps)
        _check_i(args.i, steps)
        return state_product_latex(cell, args.i, args.k, compact=args.form == "compact")
    return _jacobian_cell(args, steps)


def _check_i(i: int, steps: int) -> None:
    if i > steps:
        raise DerivationError(
            f"step i must be at most T={steps}; got i={i}. Unroll more steps "
            f"(--steps {i}) or pick i <= {steps}."
        )


def _jacobian_cell(args: argparse.Namespace, steps: int) -> str:
    cell = _cell(args)
    ModelSpec(T=steps)
    _check_i(args.i, steps)
    if args.k > args.i:
        raise OutOfRangeError(
            f"the Jacobian ds_i/ds_k needs k <= i (a later state depends on an earlier one); "
            f"got i={args.i}, k={args.k}. Swap them (--from {args.k} --to {args.i})."
        )
    if args.i == args.k:  # no step between them: the identity (0 between two states)
        return _same_step(cell, args)
    if args.form == "compact":
        matrix, where = block_matrix_latex(cell)
        lhs = total_derivative(f"s_{{{args.i}}}", f"s_{{{args.k}}}")
        product = rf"\prod_{{t={args.k + 1}}}^{{{args.i}}} J_t" if args.i > args.k else "I"
        rows = [rf"{lhs} &= {product},\qquad J_t = {matrix}", *where]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"
    found = routes(cell, args.i, args.k, of=args.of, wrt=args.wrt)
    return routes_latex(cell, found, args.of, args.wrt)


def _same_step(cell: Cell, args: argparse.Namespace) -> str:
    r"""$\mathrm{d}s_i/\mathrm{d}s'_i$: I for the same state, 0 for two states of one step."""
    for value, what in ((args.of, "--of"), (args.wrt, "--wrt")):
        if value not in cell.state_names:
            raise UnknownChoiceError(
                f"{what} must be a state of the {cell.name} cell, one of "
                f"{', '.join(cell.state_names)}; got {value!r}."
            )
    if args.form == "compact":
        return rf"{total_derivative(f's_{{{args.i}}}', f's_{{{args.k}}}')} = I"
    lhs = total_derivative(cell.notation.at(args.of, args.i), cell.notation.at(args.wrt, args.k))
    return f"{lhs} = {'I' if args.of == args.wrt else '0'}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (also used by ``python -m derivations``)."""
    parser = _parser()
    args = parser.parse_args(argv)  # argparse exits 2 on unknown commands or choices
    try:
        if args.command == "derive":
            print(_derive(args))
            return 0
        if args.command == "jacobian":
            print(_jacobian(args))
            return 0
        if args.command in ("params", "paths"):
            print(_params(args) if args.command == "params" else _paths(args))
            return 0
        text, status = run_verify(args)
        print(text)
        return status
    except DerivationError as error:
        parser.exit(USAGE_ERROR, f"{parser.prog} {args.command}: error: {error}\n")
    except BrokenPipeError:  # e.g. piped into head
        return 0
