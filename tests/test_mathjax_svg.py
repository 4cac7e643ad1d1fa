"""Formulas drawn at build time (docs/hooks/mathjax_svg.py): MathJax in Node, cached.

The drawing itself is MathJax's; what is tested here is what this project adds around
it: the cache key (a changed formula is drawn anew, an unchanged one never again), the
page rewrite (the element and its TeX stay, the ids are unique per page), the large
formulas placed as image files (formula_images.py), and the errors (a broken formula
fails the build, its page and its TeX named).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import formula_images
import mathjax_cache
from mathjax_cache import FormulaCache
from mathjax_renderer import Renderer
from mathjax_svg import typeset_page
from mathjax_tex import TexError, split_tex


@pytest.fixture
def renderer(tmp_path: Path):
    drawing = Renderer(FormulaCache(tmp_path / "cache", salt=mathjax_cache.cache_salt()))
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
    salt = mathjax_cache.cache_salt()
    key = FormulaCache(tmp_path, salt=salt).key("a", False)
    assert key == FormulaCache(tmp_path, salt=salt).key("a", False)
    assert key != FormulaCache(tmp_path, salt=salt).key("a", True)
    assert key != FormulaCache(tmp_path, salt=salt).key("a ", False)
    for part in (mathjax_cache.mathjax_version(), mathjax_cache.file_hash(mathjax_cache.SCRIPT)):
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
    assert out.count("<svg") == 4 and out.count('aria-hidden="true"') == 4  # drawings, sheet
    assert '<div class="arithmatex" id="e"><mjx-container' in out
    assert out.count('<span class="arithmatex-tex">\\[x &lt; y\\]</span>') == 2  # for readers
    assert "data-mkdocs-jupyter-mathjax" not in out and "<p>\\(not math\\)</p>" in out
    # the shape of x defined once, on the page's glyph sheet, and drawn by each formula
    assert out.count('<path id="MJX-glyph-TEX-I-1D465" d="') == 1
    assert out.count('<use xlink:href="#MJX-glyph-TEX-I-1D465"') == 3
    assert out.startswith('<svg class="mjx-glyphs" aria-hidden="true"')  # no article here
    assert out.count("<defs>") == 1 and mathjax_cache.LOCAL_ID not in out
    assert "currentColor" in out  # the drawing takes the colour of the text
    with pytest.raises(TexError, match=r"p\.md: a formula without math delimiters"):
        typeset_page('<span class="arithmatex">x</span>', "p.md", renderer)


def _letters(n: int) -> str:
    """A formula of `n` glyphs: one per letter."""
    return '<div class="arithmatex">\\[' + "a" * n + "\\]</div>"


def test_a_large_formula_becomes_an_image_and_a_small_one_stays_inline(renderer):
    from xml.etree import ElementTree

    limit = formula_images.IMAGE_GLYPHS
    images = formula_images.Images("../assets/formulas/")
    page = _letters(limit - 1) + _letters(limit) + _letters(limit)
    out = typeset_page(page, "p.md", renderer, images)
    assert out.count("<svg") == 2 and out.count('class="mjx-image"') == 2  # and the sheet
    assert len(images.files) == 1  # the same formula twice: one file
    ((name, svg),) = images.files.items()
    box = out[out.index('<span class="mjx-image"') :]
    drawn = typeset_page(_letters(limit), "p.md", renderer)  # the inline drawing
    for size in ("width", "height"):
        value = drawn.split(f' {size}="')[1].split('"')[0]
        assert f"{size}: {value};" in box  # the box takes the drawing's size
    assert "vertical-align: " + drawn.split("vertical-align: ")[1].split(";")[0] in box
    assert f"mask-image: url(../assets/formulas/{name});" in box
    root = ElementTree.fromstring(svg)  # a document of its own: namespaces declared
    uses = root.findall(".//{http://www.w3.org/2000/svg}use")
    ids = {el.get("id") for el in root.iter()}
    assert len(uses) == limit
    assert all(u.get("{http://www.w3.org/1999/xlink}href")[1:] in ids for u in uses)
    assert "currentColor" in svg and name.endswith(".svg")


def test_the_glyph_sheet_keeps_one_shape_per_id_and_goes_first_in_the_article():
    import glyph_sheet

    def drawing(shape: str) -> str:
        return (
            f'<svg><defs><path id="MJX-unrolled-TEX-I-78" d="{shape}"></path></defs>'
            '<use xlink:href="#MJX-unrolled-TEX-I-78"></use></svg>'
        )

    sheet = glyph_sheet.GlyphSheet()
    first, again, other = (sheet.take(drawing(d)) for d in ("M1", "M1", "M2"))
    assert first == again == '<svg><use xlink:href="#MJX-glyph-TEX-I-78"></use></svg>'
    assert other == '<svg><use xlink:href="#MJX-glyph-TEX-I-78-"></use></svg>'
    assert sheet.shapes == {"TEX-I-78": "M1", "TEX-I-78-": "M2"}
    odd = '<svg><defs><clipPath id="c"></clipPath></defs></svg>'  # not glyphs: left alone
    assert sheet.take(odd) == odd
    page = f"<body><nav>n</nav>{glyph_sheet.ARTICLE}<h1>t</h1>"
    placed = sheet.place(page)
    assert placed.startswith(f'<body><nav>n</nav>{glyph_sheet.ARTICLE}<svg class="mjx-glyphs"')
    assert placed.count('<path id="MJX-glyph-') == 2 and placed.endswith("<h1>t</h1>")
    assert glyph_sheet.GlyphSheet().place(page) == page  # no glyphs: no sheet


def test_formula_images_are_written_once_by_name(tmp_path):
    files = {"a.svg": "<svg/>"}
    formula_images.write(files, tmp_path)
    written = tmp_path / formula_images.FOLDER / "a.svg"
    assert written.read_text() == "<svg/>"
    formula_images.write({"a.svg": "<svg>other</svg>"}, tmp_path)  # its name is its hash
    assert written.read_text() == "<svg/>"


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
    (docs / "deep").mkdir()  # and a large formula, two folders down
    (docs / "deep" / "long.md").write_text(
        "$$\n" + "+".join(f"a_{{{n}}}" for n in range(40)) + "\n$$\n"
    )
    done = subprocess.run(build, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<svg" in (tmp_path / "site" / "broken" / "index.html").read_text()
    long = tmp_path / "site" / "deep" / "long" / "index.html"
    url = long.read_text().split("mask-image: url(")[1].split(")")[0]
    assert url.startswith("../../assets/formulas/")
    assert "<use " in (long.parent / url).read_text()  # the image, where the page looks


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
