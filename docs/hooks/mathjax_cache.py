"""Where the drawings of the formulas are kept: `FormulaCache`, keyed by what makes them.

The second stage of drawing the formulas (``mathjax_svg.py`` is the hook): a drawing is
kept in ``.cache/mathjax-svg`` under a key made of the TeX, the display flag, the
MathJax version, the script's hash and the configuration (`cache_salt`), so a rebuild
draws only the formulas that changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from mathjax_tex import TexError

HOOKS = Path(__file__).resolve().parent
ROOT = HOOKS.parent.parent
SCRIPT = HOOKS / "mathjax_svg.js"
MATHJAX_PACKAGE = ROOT / "node_modules" / "mathjax-full" / "package.json"
CACHE_DIR = ROOT / ".cache" / "mathjax-svg"
#: Set (as for site.py's generator jobs) to draw every formula anew, reading no cache.
FRESH_VARIABLE = "UNROLLED_FRESH"
#: The ids of an SVG's glyphs are ``MJX-<this>-...`` as drawn; each page renumbers them
#: per formula (``MJX-<n>-``), so that no id appears twice on a page.
LOCAL_ID = "unrolled"
#: What the Node side is given; part of every cache key. maxBuffer: the written-out sums
#: of the gated cells expand \operatorname once per factor, beyond MathJax's 5 KiB.
CONFIG: dict[str, object] = {"localID": LOCAL_ID, "tex": {"maxBuffer": 100 * 1024}}
NODE_HINT = (
    "Install Node.js (Debian: apt-get install nodejs npm) and run `npm ci` in the checkout "
    "(`make setup` does both checks and the npm step)."
)


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class FormulaCache:
    """Drawings by key on disk, one file each (written whole, then renamed into place)."""

    folder: Path = CACHE_DIR
    salt: str = ""

    def key(self, tex: str, display: bool) -> str:
        digest = hashlib.sha256(json.dumps([self.salt, tex, display]).encode())
        return digest.hexdigest()

    def has(self, key: str) -> bool:
        if os.environ.get(FRESH_VARIABLE):  # as for the generator jobs: reuse nothing
            return False
        return (self.folder / key[:2] / f"{key}.html").is_file()

    def get(self, key: str) -> str | None:
        path = self.folder / key[:2] / f"{key}.html"
        return path.read_text(encoding="utf-8") if self.has(key) else None

    def put(self, key: str, drawing: str) -> None:
        path = self.folder / key[:2] / f"{key}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(drawing, encoding="utf-8")
        partial.replace(path)


def mathjax_version() -> str:
    """The installed mathjax-full's version (npm ci), or a clear error naming the fix."""
    if shutil.which("node") is None:
        raise TexError(f"drawing the formulas needs Node.js, which is not on PATH. {NODE_HINT}")
    if not MATHJAX_PACKAGE.is_file():
        raise TexError(f"npm's mathjax-full is not installed ({MATHJAX_PACKAGE}). {NODE_HINT}")
    return str(json.loads(MATHJAX_PACKAGE.read_text())["version"])


def cache_salt() -> str:
    """What, besides the formula, decides a drawing: MathJax, the script, the config."""
    return json.dumps([mathjax_version(), file_hash(SCRIPT), CONFIG], sort_keys=True)
