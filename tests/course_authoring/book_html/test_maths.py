"""course_authoring.book_html.maths: formulas typeset by KaTeX under Node.js at build time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docutils import nodes
from sphinx.errors import ExtensionError

from course_authoring.book_html.maths import (
    DrawnCharacters,
    KaTeX,
    TeXError,
    display_tex,
)
from tests.support import REPO

KATEX_DIR = REPO / "node_modules" / "katex"  # `make setup` runs npm ci
needs_katex = pytest.mark.skipif(
    shutil.which("node") is None or not KATEX_DIR.is_dir(),
    reason="KaTeX under Node.js: `make setup` installs it")


def block(tex: str, nowrap: bool = False) -> nodes.math_block:
    return nodes.math_block(tex, tex, nowrap=nowrap, number=None)


def test_a_one_line_display_formula_is_typeset_as_written() -> None:
    assert display_tex(block(r"z = Wx + b")) == r"z = Wx + b"


def test_lines_of_a_display_formula_are_aligned() -> None:
    aligned = r"\begin{aligned}a &= b \\ c &= d\end{aligned}"
    assert display_tex(block(r"a &= b \\ c &= d")) == aligned


def test_paragraphs_of_a_display_block_are_stacked() -> None:
    assert display_tex(block("a = b\n\nc = d")) == r"\begin{gathered}a = b\\c = d\end{gathered}"


def test_an_amsmath_environment_is_left_alone() -> None:
    tex = r"\begin{align} a &= b \end{align}"
    assert display_tex(block(tex, nowrap=True)) == tex


@pytest.fixture(scope="module")
def katex():
    typesetter = KaTeX(KATEX_DIR)
    yield typesetter
    typesetter.close()


@needs_katex
def test_a_formula_becomes_html_and_mathml_with_its_tex_for_screen_readers(katex) -> None:
    html = katex.typeset(r"\frac{\partial L}{\partial w}", display=False)
    assert 'class="katex"' in html and 'class="katex-html"' in html
    assert "<math" in html and r'<annotation encoding="application/x-tex">\frac' in html


@needs_katex
def test_display_and_inline_differ_and_each_is_typeset_once(katex) -> None:
    inline = katex.typeset("x^2", display=False)
    display = katex.typeset("x^2", display=True)
    assert "katex-display" in display and "katex-display" not in inline
    assert katex.typeset("x^2", display=False) is inline  # from the cache


@needs_katex
def test_tex_that_katex_cannot_typeset_is_an_error_naming_it(katex) -> None:
    with pytest.raises(TeXError, match=r"\\notacommand"):
        katex.typeset(r"a \notacommand b", display=False)
    assert "katex" in katex.typeset("a + b", display=False)  # the process carries on


def test_without_katex_the_build_stops_with_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ExtensionError, match="make setup"):
        KaTeX(tmp_path / "node_modules" / "katex").typeset("x", display=False)


def test_the_characters_drawn_are_those_inside_katex_html_only() -> None:
    drawn = DrawnCharacters()
    drawn.feed('<p>text</p><span class="katex"><span class="katex-mathml"><math><mi>q</mi>'
               '<annotation>\\alpha</annotation></math></span><span class="katex-html" '
               'aria-hidden="true"><span class="base"><span class="mord">α</span>'
               '<svg><path d="M0"/></svg><span class="mbin">+</span></span></span></span>'
               '<p>more</p>')
    assert drawn.characters == {"α", "+"}
