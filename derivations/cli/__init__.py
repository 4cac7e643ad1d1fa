"""``python -m derivations`` (console script ``unrolled``): run any derivation from a shell.

    unrolled derive --param Wxh --steps 3 [--cell CELL] [--activation tanh]
                    [--loss cross_entropy] [--format latex|markdown|json] [--form full|compact]
    unrolled jacobian --from 3 --to 1 [--cell CELL] [--of STATE --wrt STATE] [--steps 3]
                    [--activation tanh] [--form full|compact]
    unrolled verify [--cell CELL] [--steps N] [--detail]
    unrolled params --cell NAME [--format text|json]
    unrolled paths --cell NAME --from I --to K [--of STATE] [--wrt STATE] [--format text|json]

``--cell`` takes a built-in cell (vanilla, residual, lstm, gru, gru-before) or a user's
own as ``package.module:attribute`` (a `derivations.Cell`, or a function returning one);
without it, derive and jacobian print the vanilla RNN's pages' forms (the vanilla pipeline,
`derivations.vanilla`), and verify runs the cell verifier (`derivations.check.verify`, the
one verifier) on the vanilla cell with every activation.

Exit status: 0 on success, 1 when ``verify`` finds a failed check, 2 on a usage error
(the message names the valid choices or the limit and what to do instead).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence

from derivations.check.table import BUILD_STEPS, DEFAULT_STEPS, Check, NotRun, VerificationTable
from derivations.check.verify import verify_cell
from derivations.core.cell import Cell
from derivations.core.cells import BUILTIN_CELLS, load_cell
from derivations.core.degenerate import DegenerateCellWarning
from derivations.core.errors import DerivationError, OutOfRangeError, UnknownChoiceError
from derivations.core.notation import ACTIVATION_NAMES, GRADIENT_NAMES, LOSS_NAMES, total_derivative
from derivations.core.spec import MAX_STEPS, ModelSpec
from derivations.gradient.paths import routes, routes_json, routes_latex, routes_text
from derivations.render.page import cell_derivation_markdown, cell_derive_json, cell_derive_latex
from derivations.render.sums import block_matrix_latex
from derivations.vanilla.gradients import check_gradient_name
from derivations.vanilla.render import (
    compact_latex,
    derivation_json,
    derivation_markdown,
    jacobian_latex,
    local_derivatives_latex,
    written_out_latex,
)

__all__ = ["main"]

USAGE_ERROR = 2
#: What the site's build checks, for the help and the error of ``verify --steps``.
_BUILD_NOTE = f"the site's build checks T = {BUILD_STEPS.start} to {BUILD_STEPS.stop - 1}"
#: verify runs T = 1..N; beyond this, finite differences and 60 compilations per T get slow
MAX_VERIFY_STEPS = 12


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
        help=f"check T = 1..N (default {DEFAULT_STEPS}, at most {MAX_VERIFY_STEPS}; {_BUILD_NOTE})",
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
    return _load(args.cell, args.activation, args.command)


def _load(spec: str, activation: str | None, command: str) -> Cell:
    """`load_cell`, each `DegenerateCellWarning` printed on stderr as a warning of `command`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateCellWarning)
        cell = load_cell(spec, activation=activation)
    for warning in caught:
        if issubclass(warning.category, DegenerateCellWarning):
            print(f"unrolled {command}: warning: {warning.message}", file=sys.stderr)
        else:  # not ours: back to the filters the user set
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return cell


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
        for p in cell.params
    ]
    if args.format == "json":
        return json.dumps({"cell": cell.name, "params": rows}, indent=2)
    width = max(len(p.name) for p in cell.params)
    lines = [f"{len(rows)} parameters of the {cell.name} cell (read-out Wyh, by shared):"]
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


def _is_vanilla(args: argparse.Namespace) -> bool:
    """The built-in vanilla cell keeps its own renderers (the pages it has always had)."""
    return bool(args.cell == "vanilla")


def _derive(args: argparse.Namespace) -> str:
    if not _is_vanilla(args):
        return _derive_cell(args)
    if args.param not in GRADIENT_NAMES:
        owners = [n for n in BUILTIN_CELLS if args.param in load_cell(n).gradient_names]
        if owners:
            raise DerivationError(
                f"--param {args.param} is not a gradient of the vanilla cell ("
                f"{', '.join(GRADIENT_NAMES)}); it is one of the {', '.join(owners)} cell's: "
                f"add --cell {owners[0]}."
            )
    check_gradient_name(args.param)
    spec = ModelSpec(T=args.steps, activation=args.activation or "tanh", loss=args.loss)
    if args.format == "json":
        return json.dumps(derivation_json(args.param, spec, form=args.form), indent=2)
    if args.format == "markdown":
        return derivation_markdown(args.param, spec, form=args.form)
    lines = [compact_latex(args.param, spec), local_derivatives_latex(spec)]
    if args.form == "full":
        lines.append(written_out_latex(args.param, spec))
    return "\n\n".join(lines)


def _derive_cell(args: argparse.Namespace) -> str:
    cell = _cell(args)
    ModelSpec(T=args.steps)  # the same limits on T as the vanilla cell
    if args.format == "json":
        return json.dumps(cell_derive_json(cell, args.param, args.steps, form=args.form), indent=2)
    if args.format == "markdown":
        return cell_derivation_markdown(cell, args.param, args.steps, form=args.form)
    return cell_derive_latex(cell, args.param, args.steps, form=args.form)


def _jacobian(args: argparse.Namespace) -> str:
    steps = args.steps if args.steps is not None else max(args.i, 1)
    if not _is_vanilla(args) or (args.of, args.wrt) != ("h", "h"):
        return _jacobian_cell(args, steps)
    spec = ModelSpec(T=steps, activation=args.activation or "tanh", loss=args.loss)
    return jacobian_latex(args.i, args.k, spec, compact=args.form == "compact")


def _jacobian_cell(args: argparse.Namespace, steps: int) -> str:
    cell = _cell(args)
    ModelSpec(T=steps)
    if args.i > steps:
        raise DerivationError(
            f"step i must be at most T={steps}; got i={args.i}. Unroll more steps "
            f"(--steps {args.i}) or pick i <= {steps}."
        )
    if args.k > args.i:
        raise OutOfRangeError(
            f"the Jacobian ds_i/ds_k needs k <= i (a later state depends on an earlier one); "
            f"got i={args.i}, k={args.k}. Swap them (--from {args.k} --to {args.i})."
        )
    if args.i == args.k:  # no step between them: the identity, as the vanilla path prints
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


def _verify_cells(cells: list[Cell], steps: range) -> VerificationTable:
    """`verify_cell` on each of `cells`, its progress on stderr, as one table."""
    started, total = time.perf_counter(), len(cells) * len(steps) * len(LOSS_NAMES)
    rows: list[Check] = []
    skipped: list[NotRun] = []
    for n, cell in enumerate(cells):
        base = n * len(steps) * len(LOSS_NAMES)
        name = f"{cell.name} {cell.activation}" if cell.twin and cell.twin.activation else cell.name

        def step(
            done: int,
            _: int,
            label: str,
            base: int = base,
            name: str = name,
            own: str = f"{cell.name} ",
        ) -> None:
            case = label.removeprefix(own)  # "T=2 mse" after verify_cell's cell name
            print(
                f"verify: [{base + done + 1}/{total}] {name} {case} "
                f"({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

        table = verify_cell(cell, steps, progress=step)
        rows += table.rows
        skipped += [note for note in table.not_run if note not in skipped]
    return VerificationTable(tuple(rows), tuple(skipped))


def _verify(args: argparse.Namespace) -> tuple[str, int]:
    if not 1 <= args.steps <= MAX_VERIFY_STEPS:
        raise DerivationError(
            f"--steps for verify must be from 1 to {MAX_VERIFY_STEPS}; got {args.steps}. "
            f"It checks every T from 1 to N (default {DEFAULT_STEPS}); {_BUILD_NOTE}."
        )
    if args.cell is None and args.activation is not None:
        raise DerivationError(
            f"verify without --cell checks the vanilla RNN with every activation; got "
            f"--activation {args.activation}. Add --cell vanilla (or residual) to pick one."
        )
    if args.cell is None:  # the vanilla cell, one run per activation
        cells = [load_cell("vanilla", activation=name) for name in ACTIVATION_NAMES]
    else:
        cells = [_load(args.cell, args.activation, args.command)]
    table = _verify_cells(cells, range(1, args.steps + 1))
    if args.detail:
        rows = [
            f"{r.check:<30} {r.wrt:<10} T={r.T} {r.activation:<10} {r.loss:<13} "
            f"{r.max_error:.1e} {'ok' if r.passed else 'FAILED'}"
            for r in table.rows
        ]
        text = "\n".join([*rows, *table.ran(), table.text().splitlines()[-1]])
    else:
        text = table.text()
    return text, 0 if table.passed else 1


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
        text, status = _verify(args)
        print(text)
        return status
    except DerivationError as error:
        parser.exit(USAGE_ERROR, f"{parser.prog} {args.command}: error: {error}\n")
    except BrokenPipeError:  # e.g. piped into head
        return 0
