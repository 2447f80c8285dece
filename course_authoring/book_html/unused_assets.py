"""No stylesheet or script of an extension that the page does not use.

Jupyter Book always loads sphinx-design (cards, tabs, dropdowns) and sphinx-thebe (live code
cells), and both add their files to every page, each one more request before a phone can show
the page. A page gets sphinx-design's files only when its body uses one of its components
(``sd-`` classes), and sphinx-thebe's only when the book's ``launch_buttons`` turn Thebe on.
"""

from __future__ import annotations

import os
import re
from typing import Any

from sphinx.application import Sphinx

DESIGN_FILES = ("_static/sphinx-design.min.css", "_static/design-tabs.js")
THEBE_FILES = ("_static/sphinx-thebe.css", "_static/sphinx-thebe.js")
THEBE_SETTINGS = "const THEBE_JS_URL"
DESIGN_CLASS = re.compile(r'class="[^"]*\bsd-')


def _filename(asset: Any) -> str:
    return os.fspath(asset.filename or "")


def without_unused_extension_assets(app: Sphinx, pagename: str, templatename: str,
                                    context: dict, doctree: Any) -> None:
    """Drop sphinx-design's files from a page without its components, and sphinx-thebe's files and
    settings when Thebe is off."""
    dropped: tuple[str, ...] = ()
    if not DESIGN_CLASS.search(context.get("body", "")):
        dropped += DESIGN_FILES
    thebe_on = (app.config.html_theme_options.get("launch_buttons") or {}).get("thebe")
    if not thebe_on:
        dropped += THEBE_FILES
    for key in ("css_files", "script_files"):
        context[key] = [
            asset for asset in context.get(key, [])
            if _filename(asset) not in dropped
            and not (not thebe_on and asset.attributes.get("body", "").startswith(THEBE_SETTINGS))
        ]
