"""A ``<meta name="description">`` on every page: the opening of its first paragraph."""

from __future__ import annotations

import html
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

MAX_LENGTH = 160  # search engines show about this many characters
MIN_LENGTH = 50  # shorter paragraphs ("Run this cell.") do not describe a page


def first_paragraph(doctree: nodes.document) -> str:
    """The text of the first paragraph of running text that is long enough to describe the page."""
    for paragraph in doctree.findall(nodes.paragraph):
        if isinstance(paragraph.parent, nodes.Admonition):
            continue
        text = " ".join(paragraph.astext().split())
        if len(text) >= MIN_LENGTH:
            return text
    return ""


def shorten(text: str, limit: int = MAX_LENGTH) -> str:
    """``text`` cut at the last word boundary before ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def add_meta_description(app: Sphinx, pagename: str, templatename: str, context: dict,
                         doctree: Any) -> None:
    """Append the description tag to the page's meta tags (pages with a text of their own)."""
    text = shorten(first_paragraph(doctree)) if doctree is not None else ""
    if text:
        tag = f'<meta name="description" content="{html.escape(text, quote=True)}" />\n'
        context["metatags"] = context.get("metatags", "") + tag
