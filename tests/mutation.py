r"""One-point mutants of the symbolic core, each run against its module's own tests (issue 22).

    .venv/bin/python tests/mutation.py [module ...] [--jobs 2] [--lines 120-140] [--list]

A *mutant* is the module with one small change a wrong engine could make: a binary
operator swapped (``+``/``-``, ``*``/``/``, ``@`` -> ``*``, the same in ``+=`` ...), a
unary minus (or ``not``) dropped, a minus put in front of an arithmetic value that is
returned or assigned, a transpose ``.T`` dropped, a number nudged (0 -> 1, n -> n + 1),
a comparison swapped (``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``in``/``not in``,
``is``/``is not``), ``True``/``False`` flipped, ``and``/``or`` swapped, or a string
changed (``"h"`` -> ``"XXhXX"``; a literal part of an f-string gets ``XX`` in front).
Each mutant runs the module's test files (`MODULES`) with ``pytest -x -q -p
no:cacheprovider -n 0``: a failing or erroring run *kills* it, a passing one lets it
*survive*. A run longer than its timeout (three times the unmutated run, plus 20 s)
counts as killed too, and is reported as a timeout: a mutant that makes the tests hang
is noticed by them, if slowly. The score is killed / (mutants - reviewed equivalents).

Left out, on purpose:

- docstrings and other bare string statements: text, not behaviour;
- type annotations (of arguments, returns, annotated assignments): mypy checks them;
- ``__all__``: the import surface, checked by importing (tests/test_derivations_package.py);
- the message of a ``raise`` (everything inside ``raise ...``) and of an ``assert``:
  the wording of errors is tested where it is promised (tests/test_errors.py and each
  module's bad-input tests match the fragments a reader acts on), and a changed word is
  not a wrong engine; whether the error is raised at all is in the condition before it,
  which is mutated;
- format specifications inside f-strings (``{x:.3f}``), whose mutants only break the
  format;
- decorators (``@dataclass(frozen=True, eq=False)``, ``@cache``): declarations of how
  objects are stored and compared, like annotations, not arithmetic of the engine.

Each mutant runs in a process of its own (forked from a server that has imported NumPy,
SymPy, pytest and rnnnum, never the mutated package) on a fresh temporary copy of its
package: the copy is first on ``sys.path``, and ``PYTHONPATH`` points at it for the
subprocesses the tests start, such as the CLI's (``PYTHONSAFEPATH=1`` keeps the
checkout's own copy off their path). The checkout's files are never written, so an
interrupted campaign (Ctrl-C) leaves nothing to restore. At most two mutants run at
once (`MAX_JOBS`). ``MUTATION_LOG=file`` appends every run's pytest output to `file`.

`EQUIVALENT` lists reviewed mutants that cannot change behaviour, each with its reason;
they are printed, never counted as survivors or as killed. It is not a place for a
survivor that a test could notice.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VERIFY = "tests/test_derivations_cell_verify.py"
#: A cell's own read-out (issue 23) runs through the program, the sums, links and loop.
READOUT = "tests/test_derivations_cell_readout.py"
#: Every module mutated by default, and the test files run against its mutants. The
#: only place that names module paths: a relayout of the packages changes this table.
#: cell_links was split out of cell_sums, whose tests still exercise its links and paths.
MODULES: dict[str, tuple[str, ...]] = {
    "derivations/gradient/sums.py": ("tests/test_derivations_cell_sums.py", VERIFY, READOUT),
    "derivations/gradient/links.py": (
        "tests/test_derivations_cell_links.py",
        "tests/test_derivations_cell_sums.py",
        VERIFY,
        READOUT,
    ),
    "derivations/gradient/paths.py": ("tests/test_derivations_cell_paths.py", VERIFY),
    "derivations/gradient/loop.py": ("tests/test_derivations_cell_loop.py", VERIFY, READOUT),
    # the default read-out's signal is read by the built-in cells' terms (cell_sums' tests)
    "derivations/gradient/readout.py": (READOUT, VERIFY, "tests/test_derivations_cell_sums.py"),
    # the unrolled program (85.2% at the stop that added it; 100% with 4 equivalents)
    "derivations/program/unroll.py": ("tests/test_derivations_cell_unroll.py", VERIFY, READOUT),
    # each operation's local derivative, LaTeX and code (77.9% when added; 100%, 5 equivalent)
    "derivations/core/ops.py": (
        "tests/test_derivations_core_ops.py",
        "tests/test_derivations_cell.py",
        VERIFY,
    ),
    # the front door and the operations it added (issue 23)
    "derivations/core/define.py": (
        "tests/test_derivations_core_write.py",
        "tests/test_derivations_core_define.py",
    ),
    "derivations/core/write.py": ("tests/test_derivations_core_write.py",),
    "derivations/core/arith.py": ("tests/test_derivations_core_arith.py",),
    # exp, log, softplus: each one's derivative rule, LaTeX and bound gamma
    "derivations/core/functions.py": ("tests/test_derivations_core_arith.py",),
}

#: Reviewed equivalent mutants: (module, original line, mutated line), both stripped, to
#: the reason no behaviour can change.
_OPS, _UNROLL = "derivations/core/ops.py", "derivations/program/unroll.py"
_DEFINE, _ARITH = "derivations/core/define.py", "derivations/core/arith.py"
_READOUT = "derivations/gradient/readout.py"
_LAMBDIFY_SYMBOLS = 'a, h = sp.symbols("a h", real=True)'
EQUIVALENT: dict[tuple[str, str, str], str] = {
    **{
        (_READOUT, line, line.replace(".T  #", "  #")): (
            "the path from a read-out parameter's use u_i to y_i is diagonal, so its transpose "
            "is itself: a read-out's parameters have V columns and a matrix's rows are D or H "
            "(derivations.core.readout, core.write.matrix), so once a product has made a "
            "V-wide value nothing multiplies it by a matrix again; what follows is element-wise"
        )
        for line in (
            "back = program.dy[i] * use.path.matrix(scope, V, V).T  # dL_i/du_i, (1, V)",
            'back = trace["dy"][i] @ use.path.value(scope, V, V).T  # dL_i/du_i, (V,)',
        )
    },
    (_ARITH, 'sign = "-" if c < 0 else ""', 'sign = "-" if c <= 0 else ""'): (
        "this line runs only for a Fraction whose denominator is not 1 (the if above it), "
        "and such a Fraction is never 0, so c < 0 and c <= 0 agree on every value it sees"
    ),
    (
        _DEFINE,
        '*, name: str | None = None, activation: str = "tanh", stacks: tuple[Stack, ...] = (),',
        "*, name: str | None = None, activation: str = 'XXtanhXX', stacks: tuple[Stack, ...] = (),",
    ): (
        "a default of an @overload stub, which is never called: the def below it replaces it "
        "at import and has its own default (mutated separately); only mypy reads the stub"
    ),
    (_OPS, _LAMBDIFY_SYMBOLS, "a, h = sp.symbols('XXa hXX', real=True)"): (
        "the two symbols are lambdify's positional arguments; their names only name the "
        "generated function's parameters (every activation's f and f' print the same code "
        "with a, h renamed), and nothing reads those names"
    ),
    (_OPS, _LAMBDIFY_SYMBOLS, 'a, h = sp.symbols("a h", real=False)'): (
        "no activation's definition simplifies differently for a symbol that is not real: "
        "tanh, the sigmoid as (1 + tanh(a/2))/2, the ReLUs' Piecewise and the identity, and "
        "their derivatives, lambdify to the very same code either way (checked on SymPy 1.14)"
    ),
    (
        _OPS,
        "return np.asarray(scope.params[self.param], dtype=np.float64).reshape(-1)",
        "return np.asarray(scope.params[self.param], dtype=np.float64).reshape(-2)",
    ): (
        "NumPy reads any negative size in reshape as the one unknown dimension: "
        "reshape(-2) is reshape(-1), without a warning (numpy>=2.0; checked on 2.5.5)"
    ),
    (_OPS, 'a, o = sp.Dummy("a"), sp.Dummy("o")', "a, o = sp.Dummy('XXaXX'), sp.Dummy(\"o\")"): (
        "a Dummy is told apart from every other symbol by its own index, not its name, and "
        "this one never leaves Slope.forward: it is replaced (o) or absent from what is "
        "returned (a, which then only decides which branch builds the rows)"
    ),
    (_OPS, 'a, o = sp.Dummy("a"), sp.Dummy("o")', "a, o = sp.Dummy(\"a\"), sp.Dummy('XXoXX')"): (
        "a Dummy is told apart from every other symbol by its own index, not its name, and "
        "o never leaves Slope.forward: each row's value replaces it"
    ),
    (
        _UNROLL,
        "program.extend(zip(values[eq.name][t], rows, strict=True))",
        "program.extend(zip(values[eq.name][t], rows, strict=False))",
    ): "the row of symbols is made on the line before with len(rows) entries: never shorter",
    (
        _UNROLL,
        "program.extend(zip(y[t], out, strict=True))",
        "program.extend(zip(y[t], out, strict=False))",
    ): (
        "y_t is (1, V) and so is its value: the default h_t W_yh + b_y, W_yh being made "
        "(H, V) and b_y (1, V) a few lines above (an h of another width is refused by Cell, "
        "and SymPy's product would raise first), or a cell's own read-out, refused when it "
        "is defined unless its width is V (derivations.core.readout)"
    ),
    (
        _UNROLL,
        "program.extend((pv, sp.exp(yv) / z) for pv, yv in zip(p[t], y[t], strict=True))",
        "program.extend((pv, sp.exp(yv) / z) for pv, yv in zip(p[t], y[t], strict=False))",
    ): "p_t and y_t are both made (1, V) in this loop",
    (
        _UNROLL,
        "program.extend(zip(dy[t], gradient, strict=True))",
        "program.extend(zip(dy[t], gradient, strict=False))",
    ): (
        "dy_t is made (1, V), and the gradient of every loss ModelSpec accepts (LOSSES: "
        "cross-entropy p - r, MSE y - r) has one entry per entry of y_t, zipped strictly "
        "inside the loss itself"
    ),
}

MAX_JOBS = 2
PYTEST_ARGS = ("-x", "-q", "-p", "no:cacheprovider", "-n", "0")
#: Each mutant's timeout: this many times the unmutated run, plus TIMEOUT_SLACK seconds.
TIMEOUT_FACTOR, TIMEOUT_SLACK = 3.0, 20.0

_BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"), ast.Div: ("/", "*")}
_BINARY[ast.MatMult] = ("@", "*")
_COMPARE = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
}
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult)


@dataclass(frozen=True)
class Mutant:
    """One change of one module: ``source[start:end]`` becomes ``replacement``."""

    path: str
    line: int
    operator: str
    start: int
    end: int
    replacement: str

    def apply(self, source: str) -> str:
        """The mutated source."""
        return source[: self.start] + self.replacement + source[self.end :]

    def lines(self, source: str) -> tuple[str, str]:
        """The original line(s) the change touches and the same lines mutated."""
        first = source.rfind("\n", 0, self.start) + 1
        last = source.find("\n", self.end)
        last = len(source) if last < 0 else last
        return source[first:last], self.apply(source)[first : last + self.shift]

    @property
    def shift(self) -> int:
        """How much longer the mutated source is."""
        return len(self.replacement) - (self.end - self.start)


class _Offsets:
    """Character offsets of the AST's (line, UTF-8 byte column) positions."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def __call__(self, line: int, col: int) -> int:
        text = self.lines[line - 1].encode()[:col].decode()
        return self.starts[line - 1] + len(text)

    def start(self, node: ast.AST) -> int:
        return self(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


def _blank_comments(gap: str) -> str:
    """`gap` with each comment replaced by spaces (offsets kept)."""
    return re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), gap)


def _token(gap: str, pattern: str) -> tuple[int, int] | None:
    """Where the operator `pattern` is in the text between two operands, or None when the
    text holds anything else than the operator, brackets, whitespace and comments."""
    text = _blank_comments(gap)
    match = re.search(pattern, text)
    if match is None:
        return None
    rest = text[: match.start()] + text[match.end() :]
    return match.span() if re.fullmatch(r"[\s()\\]*", rest) else None


def _op_pattern(symbol: str) -> str:
    if symbol[0].isalpha():
        return r"\b" + r"\s+".join(symbol.split()) + r"\b"
    return r"(?<![=<>!*/@+\-])" + re.escape(symbol) + r"(?![=*/])"


class _Finder:
    """Walks a module's AST and lists its mutants, skipping what the docstring says."""

    def __init__(self, source: str, path: str) -> None:
        self.source, self.path = source, path
        self.at = _Offsets(source)
        self.found: list[Mutant] = []

    def add(self, line: int, operator: str, start: int, end: int, replacement: str) -> None:
        self.found.append(Mutant(self.path, line, operator, start, end, replacement))

    def operator(self, left: ast.AST, right: ast.AST, old: str, new: str, name: str) -> None:
        """Swap the operator `old` between `left` and `right` for `new`."""
        gap_start = self.at.end(left)
        span = _token(self.source[gap_start : self.at.start(right)], _op_pattern(old))
        if span is not None:
            line = self.source.count("\n", 0, gap_start + span[0]) + 1
            self.add(line, name, gap_start + span[0], gap_start + span[1], new)

    def visit(self, node: ast.AST, parent: ast.AST | None = None) -> None:
        if _skipped(node):
            return
        self.mutate(node, parent)
        for field, value in ast.iter_fields(node):
            if field in _SKIPPED_FIELDS.get(type(node), ()):
                continue
            children = value if isinstance(value, list) else [value]
            for child in children:
                if isinstance(child, ast.AST):
                    self.visit(child, node)

    def mutate(self, node: ast.AST, parent: ast.AST | None) -> None:  # noqa: PLR0912
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            old, new = _BINARY[type(node.op)]
            self.operator(node.left, node.right, old, new, f"{old} -> {new}")
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINARY:
            old, new = _BINARY[type(node.op)]
            self.operator(node.target, node.value, old + "=", new + "=", f"{old}= -> {new}=")
        elif isinstance(node, ast.Compare):
            for left, op, right in zip(
                [node.left, *node.comparators[:-1]], node.ops, node.comparators, strict=True
            ):
                if type(op) in _COMPARE:
                    old, new = _COMPARE[type(op)]
                    self.operator(left, right, old, new, f"{old} -> {new}")
        elif isinstance(node, ast.BoolOp):
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            for left, right in zip(node.values, node.values[1:], strict=False):
                self.operator(left, right, old, new, f"{old} -> {new}")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
            start, operand = self.at.start(node), self.at.start(node.operand)
            word = "-" if isinstance(node.op, ast.USub) else "not"
            if self.source[start:operand].startswith(word):
                end = start + len(word)
                if word == "not":  # and the space after it
                    end += len(self.source[end:operand]) - len(self.source[end:operand].lstrip())
                self.add(node.lineno, f"{word} dropped", start, end, "")
        elif isinstance(node, ast.Attribute) and node.attr == "T":
            if isinstance(node.ctx, ast.Load):
                end = self.at.end(node)
                dot = self.source.rfind(".", self.at.end(node.value), end)
                self.add(node.end_lineno or node.lineno, ".T dropped", dot, end, "")
        elif isinstance(node, ast.Constant):
            self.constant(node, parent)
        if isinstance(node, ast.Return | ast.Assign | ast.AugAssign):
            value = node.value
            if isinstance(value, ast.BinOp) and isinstance(value.op, _ARITHMETIC):
                start, end = self.at.start(value), self.at.end(value)
                text = self.source[start:end]
                self.add(value.lineno, "minus added", start, end, f"-({text})")

    def constant(self, node: ast.Constant, parent: ast.AST | None) -> None:
        start, end, value = self.at.start(node), self.at.end(node), node.value
        if isinstance(value, bool):
            self.add(node.lineno, f"{value} -> {not value}", start, end, str(not value))
        elif isinstance(value, int | float):
            new = 1 if value == 0 else value + 1
            self.add(node.lineno, f"{value!r} -> {new!r}", start, end, repr(new))
        elif isinstance(value, str) and isinstance(parent, ast.JoinedStr):
            self.add(node.lineno, "f-string text changed", start, start, "XX")
        elif isinstance(value, str):
            new_text = repr("XX" + value + "XX")
            self.add(node.lineno, "string changed", start, end, new_text)


#: Fields never mutated: annotations, decorators, format specifications in f-strings.
_SKIPPED_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {
    ast.FunctionDef: ("returns", "type_params", "decorator_list"),
    ast.AsyncFunctionDef: ("returns", "type_params", "decorator_list"),
    ast.ClassDef: ("decorator_list", "type_params"),
    ast.arg: ("annotation",),
    ast.AnnAssign: ("annotation",),
    ast.Assert: ("msg",),
    ast.FormattedValue: ("format_spec",),
}


def _skipped(node: ast.AST) -> bool:
    """Whole subtrees left alone: bare strings (docstrings), raise statements, __all__."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    if isinstance(node, ast.Raise):
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)
    return False


def mutants(source: str, path: str = "<source>") -> list[Mutant]:
    """Every one-point mutant of `source` that parses and differs from it, in source order."""
    tree = ast.parse(source)
    finder = _Finder(source, path)
    finder.visit(tree)
    original = ast.dump(tree)
    out = []
    for mutant in sorted(set(finder.found), key=lambda m: (m.start, m.end, m.operator)):
        try:
            changed = ast.dump(ast.parse(mutant.apply(source))) != original
        except SyntaxError:
            changed = False
        if changed:
            out.append(mutant)
    return out


# --- running the mutants ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one mutant ended: ``killed``, ``timeout`` (counted as killed) or ``survived``."""

    mutant: Mutant
    status: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.status != "survived"


class Runner:
    """Runs test files against a package with one module replaced, in a temporary copy.

    `root` is the checkout (where pytest runs, the tests read from), `path` the module
    relative to it; its first directory is the package copied. Subprocesses are killed
    with their whole process group on a timeout or when `stop` is called.
    """

    def __init__(self, root: Path, tests: Sequence[str], timeout: float | None = None) -> None:
        self.root, self.tests, self.timeout = root, tuple(tests), timeout
        self.live: set[multiprocessing.process.BaseProcess] = set()
        self.lock = threading.Lock()
        self.stopped = False

    def run(self, path: str, source: str) -> tuple[str, float]:
        """``("passed" | "failed" | "timeout", seconds)`` of the tests on `source` as `path`."""
        package = Path(path).parts[0]
        with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
            shutil.copytree(
                self.root / package, Path(tmp) / package,
                ignore=shutil.ignore_patterns("__pycache__"),
            )  # fmt: skip
            (Path(tmp) / path).write_text(source, encoding="utf-8")
            return self._call(tmp)

    def _call(self, tmp: str) -> tuple[str, float]:
        began = time.monotonic()
        with self.lock:
            if self.stopped:
                raise KeyboardInterrupt
            process = _FORKS.Process(target=_pytest, args=(tmp, str(self.root), self.tests))
            process.start()
            self.live.add(process)
        try:
            process.join(self.timeout)
            if process.exitcode is None:
                _kill(process)
                return "timeout", time.monotonic() - began
        finally:
            with self.lock:
                self.live.discard(process)
        if self.stopped:
            raise KeyboardInterrupt
        exit_file = Path(tmp) / _EXIT_FILE
        code = int(exit_file.read_text()) if exit_file.exists() else None
        if code is None or code in (4, 5):  # pytest never ran, or found nothing to run:
            raise RuntimeError(  # the harness, not the mutant
                f"pytest on {' '.join(self.tests)} exited {code} (process {process.exitcode})"
            )
        return ("passed" if code == 0 else "failed"), time.monotonic() - began

    def stop(self) -> None:
        """Kill every running test process; later runs raise KeyboardInterrupt."""
        with self.lock:
            self.stopped = True
            for process in self.live:
                _kill(process)


#: Each mutant's pytest is a fork of a server that has imported what every run imports
#: (never the mutated package): a second or so less per mutant than a fresh interpreter.
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["numpy", "sympy", "pytest", "rnnnum"])


def _pytest(tmp: str, root: str, tests: tuple[str, ...]) -> None:
    """In the forked process: the package copy in `tmp` first on the path (and on the
    path of every subprocess the tests start), pytest on `tests` from `root`, its exit
    code as the process's."""
    os.setsid()  # one process group with whatever the tests start, killed as one
    os.environ.update(PYTHONPATH=tmp, PYTHONSAFEPATH="1", PYTHONDONTWRITEBYTECODE="1")
    sys.path.insert(0, tmp)
    sys.dont_write_bytecode = True
    os.chdir(root)
    log = os.environ.get("MUTATION_LOG", os.devnull)  # a file to keep pytest's output in
    null = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(null, 1)
    os.dup2(null, 2)
    import pytest

    code = int(pytest.main([*tests, *PYTEST_ARGS]))
    (Path(tmp) / _EXIT_FILE).write_text(str(code))  # pytest ran: a verdict, not a crash
    os._exit(code)


#: Where the forked process writes pytest's exit code, in the temporary copy.
_EXIT_FILE = "pytest-exit-code"


def _kill(process: multiprocessing.process.BaseProcess) -> None:
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    process.join()


def run_mutants(
    runner: Runner,
    found: Sequence[Mutant],
    source: str,
    jobs: int = MAX_JOBS,
    report: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Each mutant's outcome, at most `jobs` (<= MAX_JOBS) at a time, in `found`'s order."""

    def one(mutant: Mutant) -> Outcome:
        status, seconds = runner.run(mutant.path, mutant.apply(source))
        verdict = {"passed": "survived", "failed": "killed"}.get(status, status)
        outcome = Outcome(mutant, verdict, seconds)
        if report is not None:
            report(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, MAX_JOBS))) as pool:
        futures = [pool.submit(one, m) for m in found]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            runner.stop()
            raise


# --- the command -----------------------------------------------------------------------


def _lines(spec: str | None) -> Callable[[int], bool]:
    if not spec:
        return lambda line: True
    ranges = [tuple(int(x) for x in part.split("-")) for part in spec.split(",")]
    return lambda line: any(r[0] <= line <= r[-1] for r in ranges)


def _show(outcome: Outcome, source: str, mark: str) -> None:
    m = outcome.mutant
    before, after = m.lines(source)
    print(f"  {mark} {m.path}:{m.line}  [{m.operator}]")
    for line in before.splitlines():
        print(f"      - {line.strip()}")
    for line in after.splitlines():
        print(f"      + {line.strip()}")


def _equivalent(mutant: Mutant, source: str) -> str | None:
    before, after = mutant.lines(source)
    return EQUIVALENT.get((mutant.path, before.strip(), after.strip()))


def campaign(path: str, tests: Sequence[str], jobs: int, lines: str | None) -> dict[str, float]:
    """Run every mutant of `path`, print the outcome; the figures of the summary."""
    source = (ROOT / path).read_text(encoding="utf-8")
    wanted = _lines(lines)
    found = [m for m in mutants(source, path) if wanted(m.line)]
    began = time.monotonic()
    status, baseline = Runner(ROOT, tests).run(path, source)
    if status != "passed":
        raise SystemExit(f"{path}: the tests fail on the unmutated module: {' '.join(tests)}")
    timeout = TIMEOUT_FACTOR * baseline + TIMEOUT_SLACK
    print(f"{path}: {len(found)} mutants; tests {', '.join(tests)} ({baseline:.0f} s unmutated, "
          f"timeout {timeout:.0f} s)", flush=True)  # fmt: skip
    done = [0]

    def progress(outcome: Outcome) -> None:
        done[0] += 1
        if not outcome.killed:
            print(f"  [{done[0]}/{len(found)}] survived line {outcome.mutant.line}", flush=True)
        elif done[0] % 25 == 0:
            print(f"  [{done[0]}/{len(found)}] {time.monotonic() - began:.0f} s", flush=True)

    runner = Runner(ROOT, tests, timeout)
    outcomes = run_mutants(runner, found, source, jobs, progress)
    equivalent = [o for o in outcomes if not o.killed and _equivalent(o.mutant, source)]
    survivors = [o for o in outcomes if not o.killed and o not in equivalent]
    killed = sum(o.killed for o in outcomes)
    timeouts = sum(o.status == "timeout" for o in outcomes)
    counted = len(outcomes) - len(equivalent)
    score = 100.0 * killed / counted if counted else 100.0
    seconds = time.monotonic() - began
    print(f"{path}: {len(outcomes)} mutants, {killed} killed ({timeouts} by timeout), "
          f"{len(survivors)} survived, {len(equivalent)} equivalent; score {score:.1f}% "
          f"({seconds:.0f} s)")  # fmt: skip
    for o in survivors:
        _show(o, source, "survived")
    for o in equivalent:
        _show(o, source, "equivalent")
        print(f"      reason: {_equivalent(o.mutant, source)}")
    return {
        "mutants": len(outcomes), "killed": killed, "survived": len(survivors),
        "equivalent": len(equivalent), "score": score, "seconds": seconds,
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"module paths (default: {', '.join(MODULES)})")
    parser.add_argument("--jobs", type=int, default=MAX_JOBS, help="mutants at once (at most 2)")
    parser.add_argument("--lines", help="only mutants on these lines, e.g. 120-140,200")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    args = parser.parse_args(argv)
    chosen = args.modules or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
    if args.list:
        for path in chosen:
            source = (ROOT / path).read_text(encoding="utf-8")
            for m in mutants(source, path):
                if _lines(args.lines)(m.line):
                    before, after = m.lines(source)
                    print(f"{path}:{m.line} [{m.operator}] {before.strip()}  =>  {after.strip()}")
        return 0
    began, summary = time.monotonic(), {}
    try:
        for path in chosen:
            summary[path] = campaign(path, MODULES[path], args.jobs, args.lines)
    except KeyboardInterrupt:
        print("interrupted: the checkout was never written, nothing to restore", file=sys.stderr)
        return 130
    w = max([28, *(len(path) for path in summary)])  # the widest path, aligned
    print(f"\n{'module':<{w}} {'mutants':>7} {'killed':>6} {'survived':>8} {'equiv.':>6} score")
    for path, row in summary.items():
        print(f"{path:<{w}} {row['mutants']:>7.0f} {row['killed']:>6.0f} {row['survived']:>8.0f} "
              f"{row['equivalent']:>6.0f} {row['score']:>5.1f}%")  # fmt: skip
    print(f"campaign: {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
