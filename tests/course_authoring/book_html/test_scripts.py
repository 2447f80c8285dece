"""course_authoring.book_html.scripts: each script tag once; MathJax only on pages with maths."""

from __future__ import annotations

from types import SimpleNamespace

from sphinx.builders.html._assets import _JavaScript

from course_authoring.book_html.scripts import (
    defer_script_files,
    mathjax_after_first_paint,
    mathjax_only_with_maths,
    one_tag_per_script,
)

MATHJAX_PATH = "../mathjax/tex-mml-chtml.js"


def test_a_repeated_inline_script_is_kept_once_in_its_first_place() -> None:
    config = _JavaScript(None, body="const URL = 1")
    context = {"script_files": [_JavaScript("a.js"), config, _JavaScript("b.js"),
                                _JavaScript("", body="const URL = 1")]}
    one_tag_per_script(None, "page", "page.html", context, None)
    assert [s.filename for s in context["script_files"]] == ["a.js", None, "b.js"]


def test_scripts_that_differ_in_an_attribute_are_both_kept() -> None:
    context = {"script_files": [_JavaScript("a.js"), _JavaScript("a.js", defer="defer")]}
    one_tag_per_script(None, "page", "page.html", context, None)
    assert len(context["script_files"]) == 2


def app_with_maths_on(*pages: str) -> SimpleNamespace:
    """Just enough of a Sphinx application: the math domain's record of pages with equations."""
    domain = SimpleNamespace(data={"has_equations": {page: True for page in pages}})
    return SimpleNamespace(config=SimpleNamespace(mathjax_path=MATHJAX_PATH),
                           env=SimpleNamespace(get_domain=lambda name: domain))


def page_scripts() -> dict:
    return {"script_files": [
        _JavaScript("_static/doctools.js"),
        _JavaScript("", body='window.MathJax = {"options": {}}'),
        _JavaScript(f"_static/{MATHJAX_PATH}", defer="defer"),
    ]}


def test_a_page_without_maths_loads_no_mathjax() -> None:
    context = page_scripts()
    mathjax_only_with_maths(app_with_maths_on("other"), "intro", "page.html", context, None)
    assert [s.filename for s in context["script_files"]] == ["_static/doctools.js"]


def test_a_page_with_maths_keeps_mathjax_and_its_configuration() -> None:
    context = page_scripts()
    mathjax_only_with_maths(app_with_maths_on("lesson"), "lesson", "page.html", context, None)
    assert len(context["script_files"]) == 3


def test_file_scripts_are_deferred_but_not_inline_ones_nor_those_others_need_at_once() -> None:
    context = {"script_files": [
        _JavaScript("_static/documentation_options.js"),
        _JavaScript("", body="DOCUMENTATION_OPTIONS.pagename = 'x';"),
        _JavaScript("_static/doctools.js"),
        _JavaScript("_static/copybutton.js", priority=200),
        _JavaScript("_static/thebe.js", **{"async": "async"}),
    ]}
    defer_script_files(None, "page", "page.html", context, None)
    defer = [s.attributes.get("defer") for s in context["script_files"]]
    assert defer == [None, None, None, "defer", None]
    assert context["script_files"][3].priority == 200


def test_mathjax_tag_becomes_an_inline_loader_with_the_page_relative_address() -> None:
    context = page_scripts()
    context["pathto"] = lambda name, resource: f"../{name}"
    mathjax_after_first_paint(app_with_maths_on("lesson"), "book/lesson", "page.html", context,
                              None)
    loader = context["script_files"][2]
    assert loader.filename == "" and 'window.addEventListener("load"' in loader.attributes["body"]
    assert f'script.src = "../_static/{MATHJAX_PATH}";' in loader.attributes["body"]
