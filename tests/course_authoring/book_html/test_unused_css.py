"""course_authoring.book_html.unused_css: stylesheets without the rules nothing can match."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from course_authoring.book_html.unused_css import (
    purge_site_stylesheets,
    selector_can_match,
    split_selectors,
    without_unused_rules,
    words_in,
)

WORDS = words_in(['<div class="bd-header card"><i class="fa-solid fa-bars"></i></div>',
                  'element.classList.add("show")'])


def test_the_sites_words_come_from_pages_and_scripts() -> None:
    assert {"bd-header", "card", "fa-solid", "fa-bars", "show", "classList"} <= WORDS


def test_a_selector_matches_only_if_every_class_and_id_it_needs_is_a_word() -> None:
    assert selector_can_match(".bd-header .card:hover > a", WORDS)
    assert selector_can_match("html[data-theme=dark] img", WORDS)
    assert not selector_can_match(".card .carousel-item", WORDS)
    assert not selector_can_match("#version-switcher", WORDS)


def test_classes_in_negations_and_alternatives_never_remove_a_selector() -> None:
    assert selector_can_match("img:not(.only-dark,.dark-light)", WORDS)
    assert selector_can_match(".bd-header :is(a, .navbar-unknown):focus-visible", WORDS)


def test_classes_that_bootstraps_script_composes_are_kept() -> None:
    assert selector_can_match(".bs-tooltip-auto[data-popper-placement^=top] .tooltip-arrow", {
        "tooltip-arrow"})


def test_commas_inside_a_pseudo_class_do_not_split_the_selector() -> None:
    assert split_selectors(".a :is(b, c), .d") == [".a :is(b, c)", ".d"]


def test_unused_rules_go_and_everything_else_stays_in_order() -> None:
    stylesheet = (
        "/*! licence */@charset \"UTF-8\";"
        ".card,.carousel{color:red}.carousel-item{color:blue}"
        "@media (min-width:960px){.bd-header{margin:0}.modal{margin:1px}}"
        "@media print{.modal{display:none}}"
        "@font-face{font-family:X;src:url(x.woff2)}"
        ".fa-bars:before{content:\"\\f0c9\"}.fa-yin-yang:before{content:\"\\f6ad\"}"
    )
    assert without_unused_rules(stylesheet, WORDS) == (
        "/*! licence */@charset \"UTF-8\";"
        ".card{color:red}"
        "@media (min-width:960px){.bd-header{margin:0}}"
        "@font-face{font-family:X;src:url(x.woff2)}"
        ".fa-bars:before{content:\"\\f0c9 \"}"
    )


def test_the_sites_stylesheets_are_rewritten_from_its_pages_but_not_its_search_index(
        tmp_path: Path) -> None:
    (tmp_path / "_static" / "styles").mkdir(parents=True)
    (tmp_path / "_static" / "styles" / "theme.css").write_text(".card{a:b}.modal{a:b}")
    (tmp_path / "page.html").write_text('<div class="card"></div>')
    (tmp_path / "searchindex.js").write_text('Search.setIndex({"terms": {"modal": 1}})')
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))

    purge_site_stylesheets(app, None)

    assert (tmp_path / "_static" / "styles" / "theme.css").read_text() == ".card{a:b}"
