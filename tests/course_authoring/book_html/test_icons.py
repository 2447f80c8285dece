"""course_authoring.book_html.icons: no fontawesome.js, and a font of the icons the book shows."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pydata_sphinx_theme
from fontTools.ttLib import TTFont

from course_authoring.book_html.icons import (
    SOLID_FONT,
    THEME_STYLESHEET,
    icon_codepoints,
    icons_shown,
    keep_only_shown_icons,
    without_fontawesome_script,
)

HEAD = """\
  <link href="../_static/styles/theme.css?digest=abc" rel="stylesheet" />
  <script defer src="../_static/scripts/fontawesome.js?digest=abc"></script>
  <link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=abc" />
"""


def test_the_fontawesome_script_tag_is_removed_and_nothing_else() -> None:
    assert without_fontawesome_script(HEAD) == """\
  <link href="../_static/styles/theme.css?digest=abc" rel="stylesheet" />
  <link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=abc" />
"""


def test_the_result_is_markup_that_jinja_does_not_escape_again() -> None:
    assert hasattr(without_fontawesome_script(HEAD), "__html__")


STYLESHEET = (
    '.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}'
    '.fa-moon:before{content:"\\f186"}.fa-yin-yang:before{content:"\\f6ad"}'
    ".bd-header{color:red}"
)


def test_each_icon_name_maps_to_the_character_that_draws_it() -> None:
    assert icon_codepoints(STYLESHEET) == {"fa-bars": 0xF0C9, "fa-navicon": 0xF0C9,
                                           "fa-moon": 0xF186, "fa-yin-yang": 0xF6AD}


def test_icons_shown_are_the_fa_names_in_pages_and_scripts() -> None:
    page = '<i class="fa-solid fa-bars"></i><span class="theme-switch fa-moon"></span>'
    assert icons_shown([page, 'icon.classList.add("fa-xmark")']) == {
        "fa-solid", "fa-bars", "fa-moon", "fa-xmark"}


def test_the_sites_icon_font_keeps_only_the_icons_its_pages_name(tmp_path: Path) -> None:
    theme = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"
    for path in (THEME_STYLESHEET, SOLID_FONT):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(theme / path.relative_to("_static"), tmp_path / path)
    (tmp_path / "page.html").write_text('<i class="fa-solid fa-bars"></i>')
    full_size = (tmp_path / SOLID_FONT).stat().st_size
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))

    keep_only_shown_icons(app, None)

    font = TTFont(tmp_path / SOLID_FONT)
    assert font.flavor == "woff2" and set(font.getBestCmap()) == {0xF0C9}
    assert (tmp_path / SOLID_FONT).stat().st_size < full_size / 20
