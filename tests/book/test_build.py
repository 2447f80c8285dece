"""The book builds with zero warnings and shows what the lessons computed."""

from __future__ import annotations

import html as html_text
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.support import REPO, toc_files

pytestmark = pytest.mark.slow


def test_build_has_zero_warnings(built_book) -> None:
    _, log = built_book
    assert not re.findall(r"WARNING|ERROR", log), log[-5000:]


def test_every_toc_page_is_built(built_book) -> None:
    html, _ = built_book
    assert (html / "index.html").is_file()
    for page in toc_files():
        assert (html / f"{page}.html").is_file(), page


def test_execution_is_off_so_the_book_shows_verified_outputs() -> None:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True


@pytest.mark.parametrize("lesson", sorted((REPO / "book").glob("[0-9][0-9]-*.ipynb")),
                         ids=lambda p: p.stem)
def test_lesson_page_shows_every_figure_and_links_to_its_exercise(built_book, lesson) -> None:
    html, _ = built_book
    page = (html / "book" / f"{lesson.stem}.html").read_text()
    notebook = nbformat.read(lesson, as_version=4)
    figures = sum("image/png" in o.get("data", {}) for c in notebook.cells
                  for o in c.get("outputs", []))
    images = [src for src in re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
              if "_static/" not in src]  # the theme's own images (the Colab logo) are not figures
    assert figures > 0 and len(images) == figures
    for src in images:
        image = (html / "book" / src).resolve()
        assert image.is_file() and image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src
    exercise = REPO / "notebooks" / lesson.stem / f"{lesson.stem}.ipynb"
    if exercise.exists():
        assert f'href="../notebooks/{lesson.stem}/{lesson.stem}.html"' in page


def test_lesson_outputs_are_rendered(built_book) -> None:
    html, _ = built_book
    page = (html / "book" / "01-concepts.html").read_text()
    assert "y = sigmoid(z) = 0.3274" in page


def test_appendix_quotes_the_committed_grading_overhead_measurement() -> None:
    """The numbers on the instructors' page are the ones in benchmarks/grading_overhead.json."""
    result = json.loads((REPO / "benchmarks" / "grading_overhead.json").read_text())
    page = " ".join((REPO / "book" / "using-the-course.md").read_text().split())
    seconds, cpu = result["seconds_per_submission"], result["cpu_seconds_per_submission"]
    for quoted in (f"`make grade` took {seconds['with']:.2f} s per submission",
                   f"({cpu['with']:.2f} s of CPU)", f"plain nbgrader {seconds['without']:.2f} s",
                   f"({cpu['without']:.2f} s of CPU)",
                   f"without the sandboxed kernel {seconds['with, no sandbox kernel']:.2f} s"):
        assert quoted in page, f"the appendix does not quote {quoted!r} from the benchmark"


def test_instructors_page_quotes_the_committed_warm_kernel_measurement() -> None:
    """The warm-kernel numbers on the instructors' page are those of warm_kernels.json."""
    result = json.loads((REPO / "benchmarks" / "warm_kernels.json").read_text())
    page = " ".join((REPO / "book" / "using-the-course.md").read_text().split())
    four = result["per_submission"]["04-baseline-mlp"]
    light = [result["per_submission"][name]
             for name in ("01-concepts", "03-data-preparation", "05-evaluation")]
    ready = result["kernel_ready_with_imports_seconds"]["04-baseline-mlp"]
    assert not result["quick"] and result["isolated"]

    def listed(kind: str) -> str:
        seconds = [f"{exercise[kind]['seconds']:.2f}" for exercise in light]
        return f"{seconds[0]}, {seconds[1]} and {seconds[2]} s"

    for quoted in (f"{result['students']} submissions of each solution",
                   f"best of {result['rounds']} rounds",
                   f"exercise 4 took {four['warm']['seconds']:.2f} s per submission warm and "
                   f"{four['cold']['seconds']:.2f} s cold ({four['warm']['cpu_seconds']:.2f} and "
                   f"{four['cold']['cpu_seconds']:.2f} s of CPU)",
                   f"after {ready['warm']:.2f} s warm, {ready['cold']:.2f} s cold",
                   f"exercises 1, 3 and 5, which import only NumPy and the course's helpers, took "
                   f"{listed('warm')} per submission warm ({listed('cold')} cold)"):
        assert quoted in page, f"the instructors' page does not quote {quoted!r}"


def test_learners_page_quotes_the_committed_check_exercise_times() -> None:
    result = json.loads((REPO / "benchmarks" / "check_exercise.json").read_text())
    page = " ".join((REPO / "book" / "using-the-course.md").read_text().split())
    again = {int(name[:2]): timing["again"]["seconds"]
             for name, timing in result["per_exercise"].items()}
    fastest, slowest = min(again, key=again.get), max(again, key=again.get)
    quoted = (f"took from {again[fastest]:.2f} s (exercise {fastest}) to {again[slowest]:.2f} s "
              f"(exercise {slowest})")
    assert quoted in page and f"best of {result['rounds']} rounds" in page, quoted


def test_chapter_2_quotes_what_xla_saves_from_the_committed_measurement() -> None:
    """Chapter 2's "about N times faster" is the ratio in benchmarks/xla_on_cpu.json."""
    compile_ = json.loads((REPO / "benchmarks" / "xla_on_cpu.json").read_text())["compile"]
    ratio = compile_["no_xla"]["median_epoch_seconds"] / compile_["xla"]["median_epoch_seconds"]
    chapter = nbformat.read(REPO / "book" / "02-environment.ipynb", as_version=4)
    prose = " ".join(" ".join(c.source.split()) for c in chapter.cells if c.cell_type == "markdown")
    assert f"about {ratio:.1f} times faster" in prose


MATHS_ELEMENT = re.compile(r'<(span|div) class="math notranslate nohighlight">')


@pytest.mark.parametrize("page", toc_files())
def test_every_formula_is_typeset_when_the_book_is_built(built_book, page) -> None:
    """Each formula is KaTeX's HTML plus MathML with its TeX (what screen readers read); the page
    links KaTeX's stylesheet if it has maths and loads no script that typesets maths."""
    html, _ = built_book
    text = (html / f"{page}.html").read_text()
    formulas = re.split(MATHS_ELEMENT, text)[2::2]
    for formula in (f.lstrip() for f in formulas):
        assert formula.startswith(('<span class="katex">', '<span class="katex-display">')), \
            formula[:200]
        assert '<annotation encoding="application/x-tex">' in formula.split("</math>")[0]
    assert "katex-error" not in text
    assert not re.search(r"<script[^>]*(mathjax|katex)", text, re.I)
    assert ("katex/katex.min.css" in text) == bool(formulas)


def test_katex_stylesheet_and_fonts_are_in_the_site_outside_static(built_book) -> None:
    """Jupyter Book puts every file under _static/ on every page; KaTeX's are served from katex/."""
    html, _ = built_book
    stylesheet = (html / "katex" / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", stylesheet))
    assert fonts and all((html / "katex" / font).is_file() for font in fonts)
    assert not list((html / "_static").rglob("*katex*")) and not (html / "mathjax").exists()


def test_the_icon_font_holds_only_the_icons_the_pages_show(built_book) -> None:
    """The theme's 150-KB Font Awesome font is cut down to a few icons (book_html/icons.py)."""
    html, _ = built_book
    font = html / "_static" / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2"
    assert font.stat().st_size < 10_000
    stylesheet = (html / "_static" / "styles" / "pydata-sphinx-theme.css").read_text()
    assert ".fa-bars:before" in stylesheet and ".fa-yin-yang:before" not in stylesheet


@pytest.mark.parametrize("page", toc_files())
def test_every_figure_has_its_size_and_loads_lazily(built_book, page) -> None:
    html, _ = built_book
    figures = re.findall(r'<img [^>]*src="[^"]*_images/[^>]*>', (html / f"{page}.html").read_text())
    for figure in figures:
        assert re.search(r' width="\d+" height="\d+" loading="lazy"', figure), figure[:120]


@pytest.mark.parametrize("page", toc_files())
def test_no_page_loads_the_files_of_extensions_it_does_not_use(built_book, page) -> None:
    """No sphinx-design component and no Thebe in the book (book_html/unused_assets.py)."""
    html, _ = built_book
    assert not re.search(r"sphinx-design|design-tabs|sphinx-thebe|THEBE_JS_URL",
                         (html / f"{page}.html").read_text())


@pytest.mark.parametrize("page", toc_files())
def test_every_inline_script_appears_once(built_book, page: str) -> None:
    """A repeated `const` declaration is a SyntaxError that stops the rest of the script."""
    html, _ = built_book
    inline = re.findall(r"<script>(.*?)</script>", (html / f"{page}.html").read_text(), re.S)
    assert len(inline) == len(set(inline))


@pytest.mark.parametrize("page", toc_files())
def test_no_page_loads_the_icon_set_as_javascript(built_book, page: str) -> None:
    """The theme's icons come from its CSS font (course_authoring/book_html/icons.py)."""
    html, _ = built_book
    assert "fontawesome.js" not in (html / f"{page}.html").read_text()


@pytest.mark.parametrize("page", toc_files())
def test_every_page_has_a_meta_description(built_book, page: str) -> None:
    html, _ = built_book
    found = re.findall(r'<meta name="description" content="([^"]+)"',
                       (html / f"{page}.html").read_text())
    assert len(found) == 1 and 50 <= len(html_text.unescape(found[0])) <= 160, found


class _ProseText(HTMLParser):
    """The text a reader sees as prose: outside code, scripts, styles and Sphinx's maths markup."""

    SKIPPED = {"pre", "code", "script", "style", "kbd", "samp", "textarea"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: whether its text is skipped
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        skipped = tag in self.SKIPPED or "math" in classes or "highlight" in classes
        self.stack.append(skipped or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.chunks.append(data)


# What maths that failed to become maths leaves in the prose: a dollar sign, or a TeX command.
RAW_TEX = re.compile(r"\$|\\(?:frac|sum|sqrt|mathbf|mathrm|text|begin|end|left|right|partial|"
                     r"alpha|beta|eta|theta|sigma|odot|top|cdot|times|log|exp|hat)\b")


def prose_of(page: Path) -> str:
    parser = _ProseText()
    parser.feed(page.read_text())
    return " ".join(" ".join(parser.chunks).split())


def test_prose_reader_skips_maths_and_code_but_not_text_around_them(tmp_path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<p>cost <span class="math notranslate">\\(\\frac{a}{b}\\)</span> and '
                    '<code>$HOME</code><br> then $ L = \\frac{1}{n}</p><div class="highlight">'
                    '<pre>x = "$"</pre></div><p>end</p>')
    assert prose_of(page) == "cost and then $ L = \\frac{1}{n} end"
    assert RAW_TEX.findall(prose_of(page)) == ["$", "\\frac"]


@pytest.mark.parametrize("page", toc_files())
def test_no_maths_reaches_the_page_as_raw_tex(built_book, page) -> None:
    """A formula MyST did not parse ($$ inside a list item) shows up as $ or \\frac in prose."""
    html, _ = built_book
    text = prose_of(html / f"{page}.html")
    found = [text[max(0, m.start() - 40): m.end() + 40] for m in RAW_TEX.finditer(text)]
    assert found == [], f"raw TeX in the prose of {page}: {found[:3]}"
