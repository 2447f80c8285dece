"""One toggle button per sidebar, so that the chapter list opens on a phone.

pydata-sphinx-theme 0.17 writes a primary and a secondary sidebar toggle into its top header,
and sphinx-book-theme writes its own pair into the article header; the theme hides the first
pair. Both themes' scripts attach their handlers to the *first* ``.primary-toggle`` and
``.secondary-toggle`` of the page (pydata-sphinx-theme issue #2451), the hidden ones, so the
visible buttons did nothing: the chapter list could not be opened on a phone, nor the sidebar
hidden on a wide screen. The layout (``_templates/layout.html``) passes the top header through
this module's Jinja filter, which removes the hidden pair.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from sphinx.application import Sphinx

FILTER_NAME = "without_hidden_sidebar_toggles"
HIDDEN_TOGGLE = re.compile(
    r"[ \t]*<button class=\"pst-navbar-icon sidebar-toggle (?:primary|secondary)-toggle\"[^>]*>"
    r".*?</button>\n?", flags=re.DOTALL)


def without_hidden_sidebar_toggles(html: str) -> Markup:
    """``html`` (the theme's top header) without its own sidebar toggle buttons."""
    return Markup(HIDDEN_TOGGLE.sub("", str(html)))


def register_filter(app: Sphinx) -> None:
    """Make the filter available to templates (at builder-inited, once the builder exists)."""
    app.builder.templates.environment.filters[FILTER_NAME] = without_hidden_sidebar_toggles
