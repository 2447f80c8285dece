"""The book builds with zero warnings and shows what the lessons computed."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
import yaml

from tests.book.conftest import toc_files
from tests.support import REPO

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
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
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
