"""The reading order: the navigation, the home page's reading list, the footer links.

A chapter is read before any page that relies on it: the gated chapter (inserted by
the cell-pages job) comes after the laboratory and before the memory horizon, which
compares trained gated networks. The home page lists every chapter in that order.
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
import sys
from typing import Any

import yaml
from conftest import ROOT
from site_hooks_loader import load_site_hooks

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

#: Where the home page's reading list starts and ends.
READING_SECTION = "## How to read it"


def site_nav() -> list[Any]:
    """mkdocs.yml's nav with the generated gated chapter put in place, as the build does."""
    from gen_cell_pages import AFTER, SECTION, chapter_nav

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    chapter = json.dumps({"after": AFTER, "entries": chapter_nav()})
    return load_site_hooks().insert_nav(nav, {SECTION: chapter})


def pages(entry: Any) -> list[str]:
    """Every page under a nav entry, in nav order."""
    if isinstance(entry, str):
        return [entry]
    if isinstance(entry, list):
        return [page for item in entry for page in pages(item)]
    return [page for value in entry.values() for page in pages(value)]


def chapter_of(nav: list[Any]) -> dict[str, int]:
    """Each page -> the position of its top-level nav entry (its chapter)."""
    return {page: n for n, entry in enumerate(nav) for page in pages(entry)}


def reading_list() -> tuple[list[str], list[str]]:
    """The pages the home page links in its reading section: the numbered list's, in the
    order they appear, and all of them."""
    text = (ROOT / "docs" / "index.md").read_text()
    section = text.split(READING_SECTION, 1)[1].split("\n## ", 1)[0]
    link = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")
    numbered = "\n".join(
        line for line in section.splitlines() if re.match(r"\d+\.\s| {3,}\S", line)
    )
    return link.findall(numbered), link.findall(section)


def test_the_gated_chapter_comes_between_the_laboratory_and_the_memory_horizon():
    titles = [next(iter(e)) if isinstance(e, dict) else e for e in site_nav()]
    from gen_cell_pages import SECTION

    assert "The memory horizon" in titles, f"the memory horizon is no chapter of its own: {titles}"
    laboratory = titles.index("The gradient laboratory")
    assert titles.index(SECTION) == laboratory + 1, titles
    assert titles.index("The memory horizon") == laboratory + 2, titles


def test_the_home_page_lists_every_chapter_in_nav_order():
    nav = site_nav()
    chapters = chapter_of(nav)
    numbered, linked = reading_list()
    unknown = [page for page in linked if page not in chapters]
    assert not unknown, f"the home page links pages the nav does not have: {unknown}"
    order = [chapters[page] for page in numbered]
    assert order == sorted(order), (
        "the home page's numbered reading list is not in nav order: "
        f"{[(page, chapters[page]) for page in numbered]}"
    )
    first, last = order[0], order[-1]
    missing = [next(iter(e)) for e in nav[first : last + 1] if nav.index(e) not in order]
    assert not missing, f"the reading list skips these chapters of the nav: {missing}"
    titles = [next(iter(e)) if isinstance(e, dict) else e for e in nav]
    unlinked = [
        titles[n] for n in range(1, len(nav)) if not set(pages(nav[n])) & set(linked)
    ]  # every chapter but Home is linked from the section
    assert not unlinked, f"the home page's reading section never links: {unlinked}"


def _url(page: str) -> str:
    """The built directory of a docs page: ``remedies.md`` -> ``remedies/``."""
    stem = re.sub(r"\.(md|py)$", "", page)
    if stem == "index":
        return ""
    return (stem.removesuffix("/index") if stem.endswith("/index") else stem) + "/"


def test_each_pages_footer_leads_to_the_next_page_of_the_nav(built_site):
    order = [_url(page) for page in pages(site_nav())]
    for here, there in itertools.pairwise(order):
        html = (built_site / here / "index.html").read_text()
        found = re.search(r'href="([^"]*)" class="md-footer__link md-footer__link--next"', html)
        assert found, f"{here or 'home'}: no next link in the footer"
        target = posixpath.normpath(posixpath.join("/" + here, found.group(1))).lstrip("/")
        assert target.rstrip("/") == there.rstrip("/"), (here, found.group(1), there)


def test_the_expanded_sum_opens_on_the_tab_of_the_examples_length(built_site):
    from gen_fragments_notation import EXAMPLE

    html = (built_site / "expanded-sum" / "index.html").read_text()
    checked = re.findall(r'<input checked="checked" id="([^"]+)"', html)
    assert len(checked) == 1, checked
    label = re.search(rf'<label for="{checked[0]}">([^<]*)</label>', html)
    assert label and label.group(1) == f"T = {EXAMPLE.T}", (checked, label)
