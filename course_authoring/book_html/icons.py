"""The theme's icons drawn by its CSS font alone, without its fontawesome.js on every page.

pydata-sphinx-theme draws its icons (``<i class="fa-solid ...">``) with the Font Awesome font
that its stylesheet already loads, and adds the whole Font Awesome icon set as JavaScript to
every page "so that users can add custom icons". The book adds none, so the layout
(``_templates/layout.html``) passes the theme's head through this module's Jinja filter.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from sphinx.application import Sphinx

FILTER_NAME = "without_fontawesome_script"
FONTAWESOME_SCRIPT = re.compile(
    r"[ \t]*<script[^>]*\ssrc=\"[^\"]*_static/scripts/fontawesome\.js[^\"]*\"[^>]*></script>\n?")


def without_fontawesome_script(html: str) -> Markup:
    """``html`` without the script tag that loads the theme's fontawesome.js."""
    return Markup(FONTAWESOME_SCRIPT.sub("", str(html)))


def register_filter(app: Sphinx) -> None:
    """Make the filter available to templates (at builder-inited, once the builder exists)."""
    app.builder.templates.environment.filters[FILTER_NAME] = without_fontawesome_script
