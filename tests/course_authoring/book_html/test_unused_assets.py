"""course_authoring.book_html.unused_assets: no sphinx-design or sphinx-thebe files where unused."""

from __future__ import annotations

from types import SimpleNamespace

from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript

from course_authoring.book_html.unused_assets import without_unused_extension_assets


def app(thebe: bool) -> SimpleNamespace:
    options = {"launch_buttons": {"thebe": thebe, "colab_url": "https://colab.example"}}
    return SimpleNamespace(config=SimpleNamespace(html_theme_options=options))


def page(body: str) -> dict:
    return {"body": body,
            "css_files": [_CascadingStyleSheet("_static/basic.css"),
                          _CascadingStyleSheet("_static/sphinx-design.min.css"),
                          _CascadingStyleSheet("_static/sphinx-thebe.css")],
            "script_files": [_JavaScript("_static/doctools.js"),
                             _JavaScript("_static/design-tabs.js"),
                             _JavaScript(None, body='const THEBE_JS_URL = "x"; const a = 1'),
                             _JavaScript("_static/sphinx-thebe.js", **{"async": "async"})]}


def names(context: dict, key: str) -> list[str]:
    return [str(asset.filename or asset.attributes.get("body", "")[:10]) for asset in context[key]]


def test_a_page_without_design_components_and_thebe_off_loads_neither() -> None:
    context = page("<p>text</p>")
    without_unused_extension_assets(app(thebe=False), "p", "page.html", context, None)
    assert names(context, "css_files") == ["_static/basic.css"]
    assert names(context, "script_files") == ["_static/doctools.js"]


def test_a_page_with_a_design_component_keeps_its_files() -> None:
    context = page('<div class="sd-card sd-shadow-sm">card</div>')
    without_unused_extension_assets(app(thebe=False), "p", "page.html", context, None)
    assert "_static/sphinx-design.min.css" in names(context, "css_files")
    assert "_static/design-tabs.js" in names(context, "script_files")


def test_thebe_turned_on_keeps_its_files_and_settings() -> None:
    context = page("<p>text</p>")
    without_unused_extension_assets(app(thebe=True), "p", "page.html", context, None)
    assert "_static/sphinx-thebe.css" in names(context, "css_files")
    assert names(context, "script_files") == ["_static/doctools.js", "const THEB",
                                              "_static/sphinx-thebe.js"]
