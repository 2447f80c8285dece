"""course_authoring.book_html.built_site: the built site's pages, scripts and fonts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydata_sphinx_theme
from fontTools.ttLib import TTFont

from course_authoring.book_html.built_site import subset_font, texts

THEME_FONT = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
              / "static" / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2")


def test_texts_are_pages_and_scripts_but_not_the_search_index_or_the_icon_set(
        tmp_path: Path) -> None:
    (tmp_path / "_static").mkdir()
    (tmp_path / "page.html").write_text("page")
    (tmp_path / "_static" / "theme.js").write_text("script")
    (tmp_path / "_static" / "theme.css").write_text("style")
    (tmp_path / "searchindex.js").write_text("every word")
    (tmp_path / "_static" / "fontawesome.js").write_text("every icon")
    assert sorted(texts(tmp_path)) == ["page", "script"]
    assert texts(tmp_path, suffixes=(".html",)) == ["page"]


def test_a_font_keeps_only_the_given_characters(tmp_path: Path) -> None:
    font = tmp_path / "font.woff2"
    shutil.copyfile(THEME_FONT, font)
    size = font.stat().st_size
    kept = {0xF0C9, 0xF002}  # bars, magnifying glass
    subset_font(font, kept)
    assert font.read_bytes()[:4] == b"wOF2" and set(TTFont(font).getBestCmap()) == kept
    assert font.stat().st_size < size / 4
