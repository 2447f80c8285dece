"""course_authoring.book_html.scripts: each script tag once, file scripts deferred."""

from __future__ import annotations

from sphinx.builders.html._assets import _JavaScript

from course_authoring.book_html.scripts import (
    defer_script_files,
    one_tag_per_script,
    without_search_scripts,
)


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



def test_the_search_index_and_its_tools_are_dropped_from_a_pages_head() -> None:
    head = """\
    <meta name="docbuild:last-update" content="today"/>
    <script src="../_static/searchtools.js"></script>
    <script src="../_static/language_data.js"></script>
    <script src="../searchindex.js"></script>
    <script src="../_static/other.js"></script>
"""
    assert without_search_scripts(head) == """\
    <meta name="docbuild:last-update" content="today"/>
    <script src="../_static/other.js"></script>
"""
