"""The site's stylesheets without the rules that nothing in the book can match.

The theme's stylesheet carries all of Bootstrap and a rule for each of Font Awesome's 1,400
icons: 312 KB that a phone must fetch and parse before it shows any text. Once the pages are
written, each stylesheet under ``_static/`` is rewritten without the selectors that name a class
or id that no page and no script of the site contains. Rules without classes or ids (element,
attribute and state selectors), at-rules such as ``@font-face``, and the classes Bootstrap's
script composes at run time (``bs-…``) are always kept; a class inside ``:not()``, ``:is()``,
``:where()`` or ``:has()`` never removes a selector.
"""

from __future__ import annotations

import re
from pathlib import Path

import tinycss2
from sphinx.application import Sphinx

from course_authoring.book_html import built_site

# classes that Bootstrap's script builds from pieces (`bs-${name}-auto`), never written whole
DYNAMIC_CLASS_PREFIXES = ("bs-",)
NESTING_AT_RULES = ("media", "supports", "layer", "container")
WORD = re.compile(r"-?[_a-zA-Z][\w-]*")
CLASS_OR_ID = re.compile(r"[.#](-?[_a-zA-Z][\w-]*)")
NON_ASCII = re.compile(r"[^\x00-\x7f]")
FUNCTIONAL_PSEUDO = re.compile(r":(?:not|is|where|has)\([^()]*(?:\([^()]*\)[^()]*)*\)")


def words_in(texts: list[str]) -> set[str]:
    """Every word that could be a class name or id in ``texts`` (pages, scripts)."""
    return {word for text in texts for word in WORD.findall(text)}


def selector_can_match(selector: str, words: set[str]) -> bool:
    """Whether every class and id that ``selector`` requires is a word of the site."""
    required = CLASS_OR_ID.findall(FUNCTIONAL_PSEUDO.sub("", selector))
    return all(name in words or name.startswith(DYNAMIC_CLASS_PREFIXES) for name in required)


def split_selectors(prelude: str) -> list[str]:
    """The selectors of a comma-separated list, keeping the commas inside ``:is(a, b)``."""
    selectors, depth, start = [], 0, 0
    for position, character in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            selectors.append(prelude[start:position].strip())
            start = position + 1
    return selectors + [prelude[start:].strip()]


def _kept(rules: list, words: set[str]) -> list[str]:
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = split_selectors(tinycss2.serialize(rule.prelude))
            matching = [s for s in selectors if selector_can_match(s, words)]
            if matching:
                kept.append(",".join(matching) + "{" + tinycss2.serialize(rule.content) + "}")
        elif (rule.type == "at-rule" and rule.lower_at_keyword in NESTING_AT_RULES
              and rule.content is not None):
            inner = _kept(tinycss2.parse_rule_list(rule.content, skip_whitespace=True), words)
            if inner:
                kept.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}"
                            + "{" + "".join(inner) + "}")
        elif rule.type == "at-rule" or (rule.type == "comment" and rule.value.startswith("!")):
            kept.append(tinycss2.serialize([rule]))  # @font-face, @keyframes, licence notices
    return kept


def without_unused_rules(stylesheet: str, words: set[str]) -> str:
    """``stylesheet`` without the selectors (and rules left empty) that cannot match; characters
    outside ASCII written as CSS escapes, as the theme writes its icons (``"\\f0c9"``)."""
    rules = tinycss2.parse_stylesheet(stylesheet, skip_whitespace=True)
    return NON_ASCII.sub(lambda c: f"\\{ord(c.group()):x} ", "".join(_kept(rules, words)))


def purge_site_stylesheets(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite every stylesheet under the site's ``_static/`` without its unused rules."""
    outdir = Path(app.outdir)
    if exception is not None or app.builder.format != "html":
        return
    words = words_in(built_site.texts(outdir))
    for stylesheet in (outdir / "_static").rglob("*.css"):
        css = stylesheet.read_text(encoding="utf-8")
        stylesheet.write_text(without_unused_rules(css, words), encoding="utf-8")
