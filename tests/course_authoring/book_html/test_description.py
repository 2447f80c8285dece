"""course_authoring.book_html.description: a page's meta description from its first paragraph."""

from __future__ import annotations

from docutils.core import publish_doctree

from course_authoring.book_html.description import (
    MAX_LENGTH,
    add_meta_description,
    first_paragraph,
    shorten,
)

PAGE = """\
Title
=====

Short.

.. note::

   A note that is long enough to count, but it is an aside, not the page's own text.

The first real paragraph of the page, long enough to say what the page is about & more.
"""


def test_the_first_long_paragraph_outside_an_admonition_describes_the_page() -> None:
    text = first_paragraph(publish_doctree(PAGE))
    assert text.startswith("The first real paragraph")


def test_a_long_text_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = shorten("word " * 100)
    assert len(text) <= MAX_LENGTH and text.endswith("word…")


def test_a_short_text_is_kept_whole() -> None:
    assert shorten("A sentence.") == "A sentence."


def test_the_tag_is_appended_to_the_meta_tags_and_escaped() -> None:
    context = {"metatags": '<meta name="x" />\n'}
    add_meta_description(None, "page", "page.html", context, publish_doctree(PAGE))
    assert context["metatags"].startswith('<meta name="x" />\n<meta name="description" content=')
    assert "about &amp; more." in context["metatags"]


def test_a_page_without_a_doctree_gets_no_tag() -> None:
    context: dict = {}
    add_meta_description(None, "genindex", "genindex.html", context, None)
    assert "metatags" not in context
