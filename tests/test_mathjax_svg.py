"""Formulas drawn at build time (docs/hooks/mathjax_svg.py): MathJax in Node, cached.

The drawing itself is MathJax's; what is tested here is what this project adds around
it: the cache key (a changed formula is drawn anew, an unchanged one never again), the
page rewrite (the element and its TeX stay, the ids are unique per page), and the
errors (a broken formula fails the build, its page and its TeX named).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import mathjax_svg
from mathjax_svg import FormulaCache, Renderer, TexError, split_tex, typeset_page


@pytest.fixture
def renderer(tmp_path: Path):
    drawing = Renderer(FormulaCache(tmp_path / "cache", salt=mathjax_svg.cache_salt()))
    yield drawing
    drawing.close()


def test_split_tex_reads_arithmatex_delimiters_and_refuses_bare_tex():
    assert split_tex(r"\(a_t\)") == ("a_t", False)
    assert split_tex("\\[\nx^2\n\\]") == ("\nx^2\n", True)
    assert split_tex(r"\begin{aligned}a\end{aligned}") == (r"\begin{aligned}a\end{aligned}", True)
    with pytest.raises(TexError, match=r"without math delimiters: 'a_t'.*\$\.\.\.\$"):
        split_tex("a_t")


def test_a_changed_formula_changes_its_drawing_and_an_unchanged_one_is_reused(renderer):
    first, second, shown = renderer.draw([("a + b", False), ("a + c", False), ("a + b", True)], "p")
    assert "<svg" in first and first != second  # the formula is in the key
    assert shown != first and 'display="true"' in shown  # so is the display flag
    assert renderer.drawn == 3 and renderer.reused == 0
    # a new renderer on the same cache draws nothing: no Node process is even started
    again = Renderer(renderer.cache)
    assert again.draw([("a + c", False), ("a + b", False)], "p") == [second, first]
    assert again.process is None and again.drawn == 0 and again.reused == 2


def test_the_cache_key_covers_mathjax_the_script_and_its_settings(tmp_path):
    salt = mathjax_svg.cache_salt()
    key = FormulaCache(tmp_path, salt=salt).key("a", False)
    assert key == FormulaCache(tmp_path, salt=salt).key("a", False)
    assert key != FormulaCache(tmp_path, salt=salt).key("a", True)
    assert key != FormulaCache(tmp_path, salt=salt).key("a ", False)
    for part in (mathjax_svg.mathjax_version(), mathjax_svg._file_hash(mathjax_svg.SCRIPT)):
        assert part in salt
    assert '"maxBuffer": 102400' in salt


def test_a_tex_error_names_the_page_and_the_formula(renderer):
    with pytest.raises(TexError, match=r"gated/x\.md: TeX error in the display formula "
                       r"'\\\\frac\{a\}\{': Missing close brace"):  # fmt: skip
        renderer.draw([("a", False), (r"\frac{a}{", True)], "gated/x.md")
    with pytest.raises(TexError, match=r"Undefined control sequence \\nosuchmacro\. Fix"):
        renderer.draw([(r"\nosuchmacro{x}", False)], "p.md")
    # the good formula of the first page was kept, nothing broken was
    kept = [p.read_text()[:15] for p in renderer.cache.folder.rglob("*.html")]
    assert kept == ["<mjx-container "]


def test_a_page_keeps_its_elements_and_tex_and_gets_unique_glyph_ids(renderer):
    page = (
        '<p>Let <span class="arithmatex">\\(x &lt; y\\)</span> and</p>\n'
        '<div class="arithmatex" id="e">\\[x &lt; y\\]</div>\n'
        '<div class="arithmatex">\\[x &lt; y\\]</div>\n'
        "<script data-mkdocs-jupyter-mathjax='{}'>load()</script>\n<p>\\(not math\\)</p>"
    )
    out = typeset_page(page, "p.md", renderer)
    assert out.count("<svg") == 3 and out.count('aria-hidden="true"') == 3  # the drawings
    assert '<div class="arithmatex" id="e"><mjx-container' in out
    assert out.count('<span class="arithmatex-tex">\\[x &lt; y\\]</span>') == 2  # for readers
    assert "data-mkdocs-jupyter-mathjax" not in out and "<p>\\(not math\\)</p>" in out
    for n in (1, 2, 3):
        assert f'id="MJX-{n}-TEX-I-1D465"' in out  # x, drawn once in each formula
    assert mathjax_svg.LOCAL_ID not in out
    assert "currentColor" in out  # the drawing takes the colour of the text
    with pytest.raises(TexError, match=r"p\.md: a formula without math delimiters"):
        typeset_page('<span class="arithmatex">x</span>', "p.md", renderer)


def test_a_broken_formula_fails_the_build_with_its_page_named(tmp_path):
    """A small MkDocs project with this hook: the real build path, in seconds."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("Fine: $a_t$.\n")
    (docs / "broken.md").write_text("# Broken\n\n$$\n\\frac{a}{\n$$\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nhooks:\n  - " + str(ROOT / "docs" / "hooks" / "mathjax_svg.py") + "\n"
        "markdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n"
    )
    mkdocs = Path(sys.executable).with_name("mkdocs")
    build = [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")]
    done = subprocess.run(build, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "broken.md: TeX error in the display formula" in done.stderr, done.stderr[-2000:]
    assert "\\\\frac{a}{" in done.stderr and "Missing close brace" in done.stderr
    (docs / "broken.md").write_text("# Mended\n\n$$\n\\frac{a}{b}\n$$\n")
    done = subprocess.run(build, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<svg" in (tmp_path / "site" / "broken" / "index.html").read_text()


NOTEBOOK = """# %% [markdown]
# The markdown of a notebook: $a_t = x_t W_{xh}$.

# %%
from IPython.display import Math

Math(r"\\frac{\\partial L}{\\partial h_t}")
"""


def test_a_notebooks_markdown_and_output_math_are_drawn(tmp_path):
    """mkdocs-jupyter as the site configures it: the formulas of a notebook's Markdown
    and of its output are drawn at build, and its client MathJax loader is gone."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("Home.\n")
    (docs / "nb.py").write_text(NOTEBOOK)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nhooks:\n  - " + str(ROOT / "docs" / "hooks" / "mathjax_svg.py") + "\n"
        "plugins:\n  - mkdocs-jupyter:\n      include: ['*.py']\n      execute: true\n"
        "      markdown_cell_processor: mkdocs\n      mathjax_version: 3\n"
        "markdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n"
    )
    mkdocs = Path(sys.executable).with_name("mkdocs")
    build = [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")]
    done = subprocess.run(build, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "site" / "nb" / "index.html").read_text()
    assert page.count("<mjx-container") == 2, page.count("<mjx-container")
    assert "a_t = x_t W_{xh}" in page and "\\frac{\\partial L}{\\partial h_t}" in page
    assert "data-mkdocs-jupyter-mathjax" not in page and "mathjax@" not in page
