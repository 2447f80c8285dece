"""The theme's icons drawn by its CSS font alone, and that font holding only the icons the book
shows.

pydata-sphinx-theme draws its icons (``<i class="fa-solid ...">``) with the Font Awesome font
that its stylesheet already loads, and adds the whole Font Awesome icon set as JavaScript to
every page "so that users can add custom icons". The book adds none, so the layout
(``_templates/layout.html``) passes the theme's head through this module's Jinja filter.
The font itself has some 1,400 icons, of which the book shows about twenty: once the pages are
written, the site's copy of the font is cut down to the icons that its pages and scripts name
(``unused_css`` drops the other icons' rules from the stylesheet).
"""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup
from sphinx.application import Sphinx

from course_authoring.book_html import built_site

FILTER_NAME = "without_fontawesome_script"
FONTAWESOME_SCRIPT = re.compile(
    r"[ \t]*<script[^>]*\ssrc=\"[^\"]*_static/scripts/fontawesome\.js[^\"]*\"[^>]*></script>\n?")


def without_fontawesome_script(html: str) -> Markup:
    """``html`` without the script tag that loads the theme's fontawesome.js."""
    return Markup(FONTAWESOME_SCRIPT.sub("", str(html)))


def register_filter(app: Sphinx) -> None:
    """Make the filter available to templates (at builder-inited, once the builder exists)."""
    app.builder.templates.environment.filters[FILTER_NAME] = without_fontawesome_script


# where the theme's build puts its stylesheet and its solid icon font, in the built site
THEME_STYLESHEET = Path("_static/styles/pydata-sphinx-theme.css")
SOLID_FONT = Path("_static/vendor/fontawesome/webfonts/fa-solid-900.woff2")
# an icon's rule in the stylesheet: `.fa-bars:before,.fa-navicon:before{content:"\f0c9"}`
ICON_RULE = re.compile(r"((?:\.fa-[a-z0-9-]+:before,?)+)\{content:\"\\([0-9a-f]+) ?\"\}")
ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")


def icon_codepoints(stylesheet: str) -> dict[str, int]:
    """Each icon class of the stylesheet (``fa-bars``) and the character that draws it."""
    codepoints = {}
    for selectors, codepoint in ICON_RULE.findall(stylesheet):
        for name in re.findall(r"fa-[a-z0-9-]+", selectors):
            codepoints[name] = int(codepoint, 16)
    return codepoints


def icons_shown(texts: list[str]) -> set[str]:
    """The ``fa-`` class names that ``texts`` (pages, scripts) name."""
    return {name for text in texts for name in ICON_CLASS.findall(text)}


def keep_only_shown_icons(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite the site's solid icon font with only the icons that its pages and scripts name."""
    outdir = Path(app.outdir)
    if exception is not None or app.builder.format != "html" or not (outdir / SOLID_FONT).is_file():
        return
    shown = icons_shown(built_site.texts(outdir))
    codepoints = icon_codepoints((outdir / THEME_STYLESHEET).read_text(encoding="utf-8"))
    built_site.subset_font(outdir / SOLID_FONT,
                           (codepoints[name] for name in shown if name in codepoints))
