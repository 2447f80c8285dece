"""The scripts of a page: each once, none holding up the first paint, the search index only
where it is searched."""

from __future__ import annotations

import os
import re
from typing import Any

from markupsafe import Markup
from sphinx.application import Sphinx


def _key(script: Any) -> tuple:
    """What makes two script tags the same: source (an inline script has none) and attributes."""
    return os.fspath(script.filename or ""), tuple(sorted(script.attributes.items()))


def one_tag_per_script(app: Sphinx, pagename: str, templatename: str, context: dict,
                       doctree: Any) -> None:
    """Drop repeated script tags: Sphinx 7.4 writes an inline script added at builder-inited twice
    (sphinx-doc/sphinx#13402), and a repeated ``const`` is a SyntaxError in the browser."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        if _key(script) not in seen:
            seen.add(_key(script))
            unique.append(script)
    context["script_files"] = unique


# Scripts that others need while the page is parsed: the inline scripts of every page use
# DOCUMENTATION_OPTIONS, and the search page's own searchtools.js calls doctools.js's _ready.
RUN_AT_ONCE = ("_static/documentation_options.js", "_static/doctools.js")


def defer_script_files(app: Sphinx, pagename: str, templatename: str, context: dict,
                       doctree: Any) -> None:
    """Let the browser show the page before it runs the scripts it loads from files.

    Deferred scripts still run in the order of the page, after it is parsed; those of Sphinx and
    the theme wait for that moment anyway.
    """
    context["script_files"] = [
        s if not s.filename or os.fspath(s.filename) in RUN_AT_ONCE
        or {"async", "defer"} & set(s.attributes)
        else type(s)(s.filename, priority=s.priority, **s.attributes, defer="defer")
        for s in context.get("script_files", [])
    ]



# pydata-sphinx-theme adds Sphinx's search index and its tools to every page's head, for its
# search-as-you-type; without it (the book's setting) the search dialog sends the reader to
# search.html, which loads them itself. The layout (_templates/layout.html) uses this filter.
SEARCH_SCRIPTS_FILTER = "without_search_scripts"
SEARCH_SCRIPT = re.compile(
    r"[ \t]*<script[^>]*\ssrc=\"[^\"]*(?:searchtools|language_data|searchindex)\.js[^\"]*\""
    r"[^>]*></script>\n?")


def without_search_scripts(html: str) -> Markup:
    """``html`` (a page's head) without the script tags of the search index and its tools."""
    return Markup(SEARCH_SCRIPT.sub("", str(html)))


def register_filter(app: Sphinx) -> None:
    """Make the filter available to templates (at builder-inited, once the builder exists)."""
    app.builder.templates.environment.filters[SEARCH_SCRIPTS_FILTER] = without_search_scripts
