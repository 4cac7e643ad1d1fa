"""MkDocs hooks of the site: generated pages, computed fragments, formulas drawn at build.

On every build (and every rebuild under ``mkdocs serve``):

- ``on_config`` keys mkdocs-jupyter's notebook cache to a hash of the sources of
  the project packages the notebooks import (today only ``rnnnum``), so an edit
  there re-executes them;
- ``on_files`` runs the generator jobs (their table: ``jobs.py``; ``generate.py`` runs
  them) in fresh Python processes, one per group of the table, in parallel, so edited
  modules are always imported anew (no restart, no reload tricks); under ``mkdocs
  serve`` the rebuilds fork them from a warm parent that holds SymPy, NumPy and
  Matplotlib and nothing of the checkout (``job_server.py``).
  Each process reports the files of the checkout it imported or read; its
  output is kept in ``.cache/generated`` and reused while none of those files (nor
  the NumPy, SymPy, Matplotlib or Python version) has changed, so an edit to
  ``derivations/render/page.py`` does not rerun the laboratory (``UNROLLED_FRESH=1``
  reuses nothing). The jobs return generated pages, figures and named Markdown fragments;
  a failed check makes its job exit non-zero and this hook fails the build. It also
  adds the notebooks as downloadable ``.ipynb``;
- ``on_page_markdown`` replaces each ``{{ name }}`` in a hand-written page by the
  fragment of that name (an unknown name fails the build, naming the job of
  ``jobs.py`` that declares it, or saying that none does);
- ``on_page_context`` points a notebook page's download button at its ``.ipynb``;
- ``on_post_page`` reads each page's final HTML for a symbol outside math, a path of
  the repository or a stray heading (``prose_check.py``), and ``on_post_build`` fails
  the build on them, every page's findings in one message.

Every formula is then drawn as SVG by the next hook, ``mathjax_svg.py``.

Nothing generated is written into ``docs/``: generated files exist only in the
build (MkDocs ``File.generated``).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import jupytext
from jobs import processes, producer
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files
from prose_check import check_page, report

log = get_plugin_logger("unrolled")

HOOKS = Path(__file__).resolve().parent
ROOT = HOOKS.parent.parent
#: The generator jobs (the table: jobs.py), one group per process.
PROCESSES = processes()
#: Where each process's output is kept, with the files it was made from.
GENERATED_CACHE = ROOT / ".cache" / "generated"
#: Files a generator process can read: its output is reused while the ones it did
#: read (it reports them) are unchanged, together with these package versions.
WATCHED = ("rnnnum/**/*.py", "derivations/**/*.py", "docs/hooks/*.py", "docs/results/*.json",
           "docs/gated/cells/**/*.md")  # fmt: skip
VERSIONED = ("numpy", "sympy", "matplotlib")
#: Set this environment variable to run every generator process, reusing nothing.
FRESH_VARIABLE = "UNROLLED_FRESH"
#: Packages whose sources the generated content and the notebooks depend on.
SOURCE_PACKAGES = ("rnnnum", "derivations")
FRAGMENT = re.compile(r"\{\{\s*([A-Za-z][\w.\-]*)\s*\}\}")

_fragments: dict[str, str] = {}


IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)", re.MULTILINE)


def notebook_packages(root: Path = ROOT) -> tuple[str, ...]:
    """Which of `SOURCE_PACKAGES` the notebooks (docs/notebooks/*.py) import."""
    imported = set()
    for notebook in (root / "docs" / "notebooks").glob("*.py"):
        imported |= set(IMPORT.findall(notebook.read_text()))
    return tuple(p for p in SOURCE_PACKAGES if p in imported)


def source_hash(packages: tuple[str, ...] = SOURCE_PACKAGES, root: Path = ROOT) -> str:
    """SHA-256 (first 16 hex digits) of every .py file of `packages`, by path and content."""
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def on_config(config: Any) -> Any:
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is not None:
        # the notebooks re-execute when a package they import changes, and only then
        key = source_hash(notebook_packages())
        plugin.config["cache_dir"] = str(ROOT / ".cache" / "mkdocs-jupyter" / key)
    return config


def _snapshot() -> dict[str, str]:
    """SHA-256 of every watched file, by path relative to the checkout, plus the versions."""
    out = {
        path.relative_to(ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for pattern in WATCHED
        for path in ROOT.glob(pattern)
    }
    out.update({f"version:{name}": metadata.version(name) for name in VERSIONED})
    out["version:python"] = sys.version
    return out


def _key(snapshot: dict[str, str], sources: list[str]) -> dict[str, str | None]:
    names = [*sources, *(k for k in snapshot if k.startswith("version:"))]
    return {name: snapshot.get(name) for name in names}


def _run_jobs(jobs: tuple[str, ...], snapshot: dict[str, str]) -> dict[str, Any]:
    """The jobs' output: reused if no file they read has changed since `snapshot` (taken
    before anything runs, so an edit made meanwhile is not missed), else run afresh."""
    cache = GENERATED_CACHE / f"{'+'.join(jobs)}.json"
    if cache.is_file() and not os.environ.get(FRESH_VARIABLE):
        stored = json.loads(cache.read_text())
        if stored["key"] == _key(snapshot, list(stored["key"])[: stored["n_sources"]]):
            log.info("reused %s: none of its %d sources changed", " + ".join(jobs),
                     stored["n_sources"])  # fmt: skip
            return stored["result"]
    result = _execute(jobs)
    sources = result.pop("sources")
    GENERATED_CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": _key(snapshot, sources), "n_sources": len(sources),
                                 "result": result}))  # fmt: skip
    return result


def _job_env() -> dict[str, str]:
    env = dict(os.environ)
    # the checkout beside this mkdocs.yml first, whatever is installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    env["MPLBACKEND"] = "svg"
    env["PYTHONHASHSEED"] = "0"
    return env


def _execute(jobs: tuple[str, ...]) -> dict[str, Any]:
    started = time.perf_counter()
    warm = _warm_run(jobs)
    if warm is not None:
        code, stdout, stderr = warm
    else:
        done = subprocess.run(
            [sys.executable, str(HOOKS / "generate.py"), *jobs],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_job_env(),
            check=False,
        )
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    if code != 0:
        raise PluginError(
            f"generating the site failed in {' + '.join(jobs)} (exit {code}); "
            f"nothing is published until it passes:\n{stderr.strip()}"
        )
    how = "forked from the warm job server" if warm is not None else "in a new process"
    log.info("generated %s in %.2f s (%s)", " + ".join(jobs), time.perf_counter() - started, how)
    return json.loads(stdout)


# --- the warm job server (docs/hooks/job_server.py), under `mkdocs serve` only ---------
#
# This module is loaded anew for every build; the server must outlive it, so it is kept
# in a namespace registered in sys.modules. The first build runs its jobs as new
# processes and starts the server meanwhile; the rebuilds fork their jobs from it.
_WARM: Any = sys.modules.setdefault(
    "_unrolled_job_server", types.ModuleType("_unrolled_job_server")
)


def _serving() -> bool:
    return sys.argv[1:2] == ["serve"]


def _start_warm_server() -> None:
    if not _serving() or getattr(_WARM, "server", None) is not None:
        return
    _WARM.lock = threading.Lock()
    _WARM.folder = Path(tempfile.mkdtemp(prefix="unrolled-jobs-"))
    atexit.register(shutil.rmtree, _WARM.folder, True)
    _WARM.count = 0
    _WARM.server = subprocess.Popen(
        [sys.executable, str(HOOKS / "job_server.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_job_env(),
    )  # fmt: skip
    _WARM.ready = False


def _warm_run(jobs: tuple[str, ...]) -> tuple[int, str, str] | None:
    """Run `jobs` in a child forked from the warm server, or None (no server ready)."""
    server = getattr(_WARM, "server", None)
    if server is None or server.poll() is not None:
        return None
    with _WARM.lock:  # one request at a time on the pipe; the children run in parallel
        if not _WARM.ready:  # the first build runs without waiting for the server
            if not getattr(_WARM, "builds_seen", 0):
                return None
            if json.loads(server.stdout.readline() or "{}").get("ready") is not True:
                return None
            _WARM.ready = True
        _WARM.count += 1
        base = _WARM.folder / f"job{_WARM.count}"
        paths = {kind: str(base.with_suffix(f".{kind}")) for kind in ("out", "err", "code")}
        server.stdin.write(json.dumps({"jobs": list(jobs), **paths}) + "\n")
        server.stdin.flush()
        pid = json.loads(server.stdout.readline() or "{}").get("pid")
    if pid is None:
        return None
    done = Path(paths["code"])
    while not done.exists():
        if not _alive(pid) and not done.exists():
            return None  # died without a word (killed): run it the ordinary way instead
        time.sleep(0.01)
    result = (int(done.read_text()), *(Path(paths[k]).read_text() for k in ("out", "err")))
    for path in paths.values():
        Path(path).unlink()
    return result  # type: ignore[return-value]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def generate() -> dict[str, Any]:
    """Run every job, the processes in parallel; merge their pages, files and fragments."""
    snapshot = _snapshot()  # one reading of every watched file for all the jobs
    _start_warm_server()
    try:
        with ThreadPoolExecutor(len(PROCESSES)) as pool:  # threads that wait for processes
            results = list(pool.map(lambda jobs: _run_jobs(jobs, snapshot), PROCESSES))
    finally:
        _WARM.builds_seen = getattr(_WARM, "builds_seen", 0) + 1
    merged: dict[str, dict[str, str]] = {"pages": {}, "files": {}, "fragments": {}, "nav": {}}
    for result in results:
        for kind, items in merged.items():
            clash = items.keys() & result.get(kind, {}).keys()
            if clash:
                raise PluginError(f"two generator jobs produced the same {kind}: {sorted(clash)}")
            items.update(result.get(kind, {}))
    return merged


def _notebook_downloads(files: Files, config: Any) -> list[File]:
    """Each jupytext notebook (notebooks/*.py) also as .ipynb, for the download button."""
    out = []
    for file in files.documentation_pages():
        if file.src_uri.startswith("notebooks/") and file.src_uri.endswith(".py"):
            notebook = jupytext.read(file.abs_src_path)
            uri = file.src_uri.removesuffix(".py") + ".ipynb"
            out.append(File.generated(config, uri, content=jupytext.writes(notebook, "ipynb")))
    return out


def insert_nav(nav: list[Any], sections: dict[str, str]) -> list[Any]:
    """`nav` with each generated section (title -> JSON ``{"after", "entries"}``) placed
    right after the section it names; a section already there is replaced (a rebuild)."""
    out = [entry for entry in nav if not (isinstance(entry, dict) and entry.keys() & sections)]
    for title, text in sorted(sections.items()):
        section = json.loads(text)
        titles = [next(iter(e)) if isinstance(e, dict) else e for e in out]
        if section["after"] not in titles:
            raise PluginError(
                f"the generated nav section {title!r} goes after {section['after']!r}, "
                f"which mkdocs.yml's nav does not have (its sections: {titles})."
            )
        out.insert(titles.index(section["after"]) + 1, {title: section["entries"]})
    return out


def on_files(files: Files, config: Any) -> Files:
    generated = generate()
    if generated["nav"] and config.get("nav"):
        config["nav"] = insert_nav(config["nav"], generated["nav"])
    _fragments.clear()
    _fragments.update(generated["fragments"])
    for uri, text in sorted(generated["pages"].items()):
        files.append(File.generated(config, uri, content=text))
    for uri, text in sorted(generated["files"].items()):
        files.append(File.generated(config, uri, content=text))
    for file in _notebook_downloads(files, config):
        files.append(file)
    return files


def fill(
    markdown: str, fragments: dict[str, str], where: str, _within: tuple[str, ...] = ()
) -> str:
    """Replace each ``{{ name }}`` by its fragment; an unknown name is an error.

    A fragment may hold placeholders itself (a laboratory table, made by a job that does
    not import `derivations`, names its symbols as ``{{ sym.Whh }}``): they are filled in
    turn; a fragment that contains itself is an error.
    """

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _within:
            raise PluginError(
                f"{where}: the fragment {name!r} contains itself "
                f"({' -> '.join((*_within, name))}); a fragment may only name others."
            )
        if name not in fragments:
            raise PluginError(f"{where}: {_unfilled(name, fragments)}")
        text = fill(fragments[name], fragments, where, (*_within, name))
        line_start = markdown.rfind("\n", 0, match.start()) + 1
        indent = markdown[line_start : match.start()]
        # inside an indented block (a tab, an admonition) every line keeps the indent
        return text.replace("\n", "\n" + indent) if indent and not indent.strip() else text

    return FRAGMENT.sub(one, markdown)


def _unfilled(name: str, fragments: dict[str, str]) -> str:
    """Why the placeholder `name` has no fragment: the job that declares it (jobs.py)
    did not make it, or no job declares it; with the names of its kind there are."""
    close = sorted(k for k in fragments if k.split(".")[0] == name.split(".", maxsplit=1)[0])
    job = producer(name)
    owner = (
        f"the job {job.name!r} ({job.module}.{job.function}) declares it but did not make it"
        if job
        else "no job of docs/hooks/jobs.py declares it (add it to the job that makes it)"
    )
    return (
        f"no generated fragment named {name!r}: {owner}; names of this kind: "
        f"{', '.join(close) or 'none'}."
    )


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.endswith(".py"):  # notebooks: code cells may hold braces
        return markdown
    return fill(markdown, _fragments, page.file.src_uri)


def on_page_context(context: Any, page: Any, config: Any, nav: Any) -> Any:
    if getattr(page, "nb_url", None):
        page.nb_url = page.nb_url.removesuffix(".py") + ".ipynb"
    return context


#: What `on_post_page` found on each page of this build, reported by `on_post_build`.
_findings: dict[str, str] = {}


# What the prose check found on each page of the last build, by a hash of the page's
# HTML and of the checker's source: under `mkdocs serve` a rebuild reads again only the
# pages whose HTML changed (reading all 91 takes ~1.7 s). Kept like the job server.
_PROSE: Any = sys.modules.setdefault("_unrolled_prose_check", types.ModuleType("_prose"))
_PROSE_SOURCE = hashlib.sha256((HOOKS / "prose_check.py").read_bytes()).hexdigest()


def on_pre_build(config: Any) -> None:
    _findings.clear()
    _PROSE.last, _PROSE.now = getattr(_PROSE, "now", {}), {}


def on_post_page(output: str, page: Any, config: Any) -> str:
    src = page.file.src_uri
    key = hashlib.sha256(f"{_PROSE_SOURCE}\0{output}".encode()).hexdigest()
    findings = _PROSE.last[key] if key in _PROSE.last else check_page(output)
    _PROSE.now[key] = findings
    if findings:
        _findings[src] = report(src, findings)
    return output


def on_post_build(config: Any) -> None:
    """Fail the build on what any page shows as plain text (all pages in one message)."""
    if _findings:
        raise PluginError("\n".join(_findings[page] for page in sorted(_findings)))
