"""The built site's files, as the steps that run once every page is written read and rewrite
them: the text of its pages and scripts, and its fonts cut down to the characters in use."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fontTools import subset

# files whose words are not markup: the search index (every word of the book) and the theme's
# icon set as JavaScript (every icon's name), which no page loads
NOT_MARKUP = ("searchindex.js", "fontawesome.js")


def texts(outdir: Path, suffixes: tuple[str, ...] = (".html", ".js")) -> list[str]:
    """The text of every page and script under ``outdir`` (files with ``suffixes``), except the
    files of NOT_MARKUP."""
    return [path.read_text(encoding="utf-8") for path in sorted(outdir.rglob("*"))
            if path.suffix in suffixes and path.name not in NOT_MARKUP]


def subset_font(path: Path, codepoints: Iterable[int]) -> None:
    """Rewrite the WOFF2 font at ``path`` with only the glyphs of ``codepoints``."""
    options = subset.Options(flavor="woff2")
    font = subset.load_font(path, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(set(codepoints)))
    subsetter.subset(font)
    subset.save_font(font, path, options)
