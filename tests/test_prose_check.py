"""docs/hooks/prose_check.py: no symbol outside math, no repository path, no stray heading."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from conftest import ROOT
from mkdocs.exceptions import PluginError
from site_hooks_loader import load_site_hooks

sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import prose_check
from prose_check import check_page, code_text, symbol_findings, visible_text


def page(body: str) -> str:
    return f"<html><head><title>t_x</title></head><body><article>{body}</article></body></html>"


def tokens(body: str) -> list[str]:
    return [finding.token for finding in check_page(page(body))]


@pytest.mark.parametrize(
    ("prose", "token"),
    [
        ("<p>the state h_t of the cell</p>", "h_t"),
        ("<p>an orthogonal W_hh times 2</p>", "W_hh"),
        ("<p>for b_f = 0 and</p>", "b_f"),
        ("<p>the pre-activation a_647 became</p>", "a_647"),
        ("<p>each input x_k, and</p>", "x_k"),
        ("<p>at the same h_{t−1} and</p>", "h_{t−1}"),
        ("<p>the full dc_i/dc_k adds</p>", "dc_i/dc_k"),
        ("<p>In dh_t/dh_{t-1} the placements</p>", "dh_t/dh_{t-1}"),
        ("<p>the local ∂L/∂y is</p>", "∂L/∂y"),
        ("<p>‖dL/dWhh‖ became</p>", "dL/dWhh"),
        ("<p>the signal δ_{i,k} of</p>", "δ_{i,k}"),
        ("<p>σ_max = 0.5</p>", "σ_max"),
        ("<p>the state h₀ is</p>", "h₀"),
        ("<td>leaky_relu</td>", "leaky_relu"),
        ("<figcaption>the full dc_i/dc_k, and</figcaption>", "dc_i/dc_k"),
        ('<div class="admonition note"><p>b_hn is added</p></div>', "b_hn"),
        ("<li>r_t scales</li>", "r_t"),
        ("<h2>Against distance, for b_f = 0</h2>", "b_f"),
    ],
)
def test_a_symbol_as_plain_text_is_found(prose, token):
    assert tokens(prose) == [token]


@pytest.mark.parametrize(
    "prose",
    [
        r'<p>the state <span class="arithmatex">\(h_{t}\)</span> of the cell</p>',
        r'<div class="arithmatex">\[ \frac{\mathrm{d} c_{i}}{\mathrm{d} c_{k}} \]</div>',
        r'<details><div class="arithmatex">\[ W_{hz} z_{2} \]</div></details>',
        "<p>call <code>rnnnum.init_lstm(forget_bias=1.0)</code> first</p>",
        "<pre><code>dh_next = delta_t @ W_hh.T</code></pre>",
        "<p>press <kbd>ctrl_c</kbd></p>",
        "<script>var h_t = 1;</script><style>.x_y { }</style>",
        '<p><a href="../h_t/docs/x.py" title="W_hh">the page</a>, <img alt="b_f = 1"></p>',
        '<nav class="md-nav"><a href="#rnnnum.init_xavier">init_xavier</a></nav>',
        '<div class="clipboard-copy-txt">ax.set_xlabel("k")</div>',
        "<p>and/or, d = i − k, log10, 1/γ, Xavier/Glorot, i − k, T = 30, O(1), 0.9^10</p>",
        "<p>the module <code>derivations.core.cells</code> and the page of the GRU</p>",
        "<h1>404 - Not found</h1>",
        "<p>SymPy issues #17229, #26561, #26585, open since 2019</p>",
    ],
)
def test_math_code_attributes_and_ordinary_words_are_not_findings(prose):
    assert tokens(prose) == []


@pytest.mark.parametrize(
    ("prose", "token"),
    [
        ("<p>the table of checks by docs/hooks/gen_cell_checks.py, which</p>", None),
        ("<p>see derivations/core/cell.py</p>", "derivations/core/cell.py"),
        ("<p>in rnnnum/lstm.py</p>", "rnnnum/lstm.py"),
        ("<p>read in tests/test_spec.py)</p>", "tests/test_spec.py"),
        ("<p>recorded in <code>docs/results/memory-horizon.json</code></p>", None),
        ("<pre><code>cat x\nopen('docs/results/h.json')</code></pre>", None),
        ("<p>run by site.py</p>", "site.py"),
        ("<p>set in mkdocs.yml</p>", "mkdocs.yml"),
    ],
)
def test_a_repository_path_is_found_in_prose_and_in_code(prose, token):
    found = [f for f in check_page(page(prose)) if f.kind == "path"]
    assert len(found) == 1, found
    if token is not None:
        assert found[0].token == token


def test_tex_that_mathjax_never_sees_is_found_in_the_text_and_the_table_of_contents():
    toc = '<nav class="md-nav"><a href="#x">Against distance, for \\(b_{f} = 0\\)</a></nav>'
    assert [(f.kind, f.token) for f in check_page(page(toc))] == [("tex", r"\(b_{f} = 0\)")]
    raw = "<figure><figcaption>the full \\(W_{hh}\\)</figcaption></figure>"
    assert [(f.kind, f.token) for f in check_page(page(raw))] == [("tex", r"\(W_{hh}\)")]
    typeset = '<figcaption>the full <span class="arithmatex">\\(W_{hh}\\)</span></figcaption>'
    assert check_page(page(typeset)) == []
    # a docstring's $...$ that arithmatex left alone (a space after the dollar)
    dollars = r'<div class="doc doc-contents"><p>the norm $ \lVert W \rVert$ of it</p></div>'
    assert [(f.kind, f.token) for f in check_page(page(dollars))] == [
        ("tex", r"$ \lVert W \rVert$")
    ]
    assert tokens("<p>costs 5 $ a month</p>") == ["$"]


def test_a_table_that_did_not_render_is_found():
    broken = "<p>| update | largest |entry| after |\n| --- | --- |\n| no clipping | 3 |</p>"
    assert [f.kind for f in check_page(page(broken))] == ["table"]
    assert check_page(page("<p>a | b, and x --- y</p>")) == []


def test_a_command_run_in_the_checkout_may_name_its_files():
    body = (
        "<p>recorded by <code>python -m rnnnum.horizon --out docs/results/h.json</code></p>"
        "<pre><code>$ make horizon\nunrolled derive --cell tests/cells.py:X</code></pre>"
    )
    assert tokens(body) == []


def test_a_path_is_reported_once_not_again_as_a_snake_case_name():
    found = check_page(page("<p>made by docs/hooks/gen_cell_checks.py, which</p>"))
    assert [(f.kind, f.token) for f in found] == [("path", "docs/hooks/gen_cell_checks.py")]


def test_a_stray_heading_in_the_api_reference_is_found():
    # the docstring line "#26561, #26585); ..." that Python-Markdown read as a heading
    body = (
        '<div class="doc doc-object"><h2 class="doc doc-heading">derivations.program.unroll</h2>'
        '<div class="doc doc-contents first"><p>issues #17229,</p>'
        "<h3>26561, #26585); it appears only in display.</h3>"
        '<div class="doc doc-object"><h3 class="doc doc-heading">Unrolled</h3>'
        '<div class="doc doc-contents"><p>the program</p></div></div></div></div>'
    )
    found = check_page(page(body))
    assert [(f.kind, f.token) for f in found] == [
        ("heading", "26561, #26585); it appears only in display.")
    ]
    # any heading a docstring makes, whatever it says
    stray = '<div class="doc doc-contents"><p>text</p><h4>Examples</h4></div>'
    assert [(f.kind, f.token) for f in check_page(page(stray))] == [("heading", "Examples")]
    # and outside the reference, a heading that starts like the rest of an issue list
    assert tokens("<h2>#26561 is open</h2>") == ["#26561 is open"]
    assert tokens("<h2>26561, #26585)</h2>") == ["26561, #26585)"]


def test_a_docstring_on_the_api_reference_is_checked_like_any_prose():
    """mkdocstrings renders a docstring inside ``doc-contents``: its ``$...$`` math is
    typeset (class arithmatex), its plain symbols are findings, its code spans are not."""
    docstring = (
        '<div class="doc doc-contents"><p>Last state '
        r'<span class="arithmatex">\(h_T\)</span> (N, H), from <code>dh_last</code>, and '
        "h_t in tests/test_spec.py</p></div>"
    )
    assert tokens(docstring) == ["h_t", "tests/test_spec.py"]


def test_visible_text_marks_math_and_code_and_keeps_blocks_apart():
    html = page(
        r'<p>the state <span class="arithmatex">\(h_t\)</span> and <code>h0</code></p>'
        "<table><tr><td>b</td><td>_f</td></tr></table>"
    )
    text = visible_text(html)
    assert "the state  [math]  and  [code] " in text
    assert "b\n" in text  # two cells never read as one token b_f
    assert symbol_findings(text) == []
    assert code_text(html).strip() == "h0"


def test_the_message_names_the_page_the_token_its_context_and_the_fix():
    prose = "<p>" + "x" * 60 + " the cell state path of h_t is a product " + "y" * 60 + "</p>"
    (finding,) = check_page(page(prose))
    message = prose_check.report("gated/cell-state-path.md", [finding])
    assert "gated/cell-state-path.md" in message
    assert "'h_t'" in message
    assert "the cell state path of h_t is a product" in message
    assert "{{ sym." in message  # what to do instead
    assert "x" * 41 not in message  # about 40 characters of context on each side
    many = prose_check.report("p.md", [finding] * (prose_check.SHOWN + 3))
    assert many.endswith("... and 3 more on p.md")


def test_the_hooks_fail_the_build_on_a_finding_and_pass_clean_pages():
    hooks = load_site_hooks()

    def build(pages: dict[str, str]) -> None:
        hooks.on_pre_build({})
        for src, body in pages.items():
            page_ = SimpleNamespace(file=SimpleNamespace(src_uri=src))
            assert hooks.on_post_page(page(body), page_, {}) == page(body)  # never changed
        hooks.on_post_build({})

    clean = r'<p>the state <span class="arithmatex">\(h_t\)</span></p>'
    build({"notation.md": clean, "reference/rnnnum.md": clean})
    # the API reference is checked for symbols like every other page
    with pytest.raises(PluginError, match=r"reference/rnnnum\.md: symbol 'W_hh'"):
        build({"notation.md": clean, "reference/rnnnum.md": "<p>scaled W_hh</p>"})
    with pytest.raises(PluginError, match=r"notation\.md.*'W_hh'.*an orthogonal W_hh times") as e:
        build({"notation.md": "<p>an orthogonal W_hh times 2</p>", "model.md": clean,
               "reference/derivations.md": "<p>read in tests/test_spec.py</p>"})  # fmt: skip
    assert "reference/derivations.md: path 'tests/test_spec.py'" in str(e.value)
    assert "model.md" not in str(e.value)
    build({"notation.md": clean})  # a new build starts afresh


def test_a_rebuild_reads_again_only_the_pages_whose_html_changed(monkeypatch):
    """Under ``mkdocs serve`` the findings of an unchanged page are reused, never lost: a
    page with a plain symbol still fails the rebuild without being read again."""
    hooks = load_site_hooks()
    read: list[str] = []
    real = hooks.check_page

    def counting(html: str) -> list[prose_check.Finding]:
        read.append(html)
        return real(html)

    monkeypatch.setattr(hooks, "check_page", counting)

    def build(pages: dict[str, str]) -> None:
        hooks.on_pre_build({})
        for src, body in pages.items():
            hooks.on_post_page(page(body), SimpleNamespace(file=SimpleNamespace(src_uri=src)), {})
        hooks.on_post_build({})

    clean, plain = r'<p><span class="arithmatex">\(h_t\)</span></p>', "<p>the state h_t</p>"
    with pytest.raises(PluginError, match=r"b\.md: symbol 'h_t'"):
        build({"a.md": clean, "b.md": plain})
    assert len(read) == 2
    with pytest.raises(PluginError, match=r"b\.md: symbol 'h_t'"):  # b.md from the memo
        build({"a.md": clean, "b.md": plain})
    assert len(read) == 2
    fixed = r'<p>the state <span class="arithmatex">\(h_t\)</span></p>'
    build({"a.md": clean, "b.md": fixed})  # the fixed page is read again, and passes
    assert read[2:] == [page(fixed)]


def test_a_readers_own_file_in_code_is_not_a_repository_path():
    """A notebook writes the reader's module (``mycells.py``): no module of the checkout
    has that name, so it is not a path of the repository; ``cells.py`` is one."""
    own = '<pre><code>Path(folder, "mycells.py").write_text(MODULE)</code></pre>'
    assert [f for f in check_page(page(own)) if f.kind == "path"] == []
    ours = '<pre><code>Path(folder, "cells.py").write_text(MODULE)</code></pre>'
    assert [f.token for f in check_page(page(ours)) if f.kind == "path"] == ["cells.py"]
