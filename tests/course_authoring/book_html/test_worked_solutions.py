"""course_authoring.book_html.worked_solutions: what an exercise page's worked solution holds."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_authoring.book_html.worked_solutions import (
    EXERCISE_PAGE,
    answer_cells,
    part_title,
    worked_solution,
)


def test_only_solution_cells_are_taken_without_their_markers(tmp_path: Path) -> None:
    def cell(kind, source, **grading):
        made = getattr(nbformat.v4, f"new_{kind}_cell")(source)
        made.metadata["nbgrader"] = grading
        return made

    notebook = nbformat.v4.new_notebook(cells=[
        cell("markdown", "task", solution=False),
        cell("code", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
                     "\ny = f(1)", solution=True, grade_id="part-1-double"),
        cell("code", "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(3) == 6\n"
                     "### END HIDDEN TESTS", grade=True, grade_id="test-part-1"),
    ])
    path = tmp_path / "exercise.ipynb"
    nbformat.write(notebook, path)
    assert answer_cells(path) == [("part-1-double", "def f(x):\n    return 2 * x\n\ny = f(1)")]


@pytest.mark.parametrize(("grade_id", "title"), [("part-3-dense-forward", "Part 3: dense forward"),
                                                 ("summary", "summary")])
def test_part_titles_come_from_grade_ids(grade_id: str, title: str) -> None:
    assert part_title(grade_id) == title


def test_the_solution_is_wrapped_in_a_closed_details_element() -> None:
    box = worked_solution([("part-1-double", "return 2 * x")])
    html = [node.astext() for node in box.children if node.tagname == "raw"]
    opening_tag = html[0].split(">", 1)[0] + ">"
    assert opening_tag == '<details class="worked-solution">'  # no `open` attribute
    assert html[-1].strip() == "</details>"


@pytest.mark.parametrize(("docname", "exercise"), [
    ("notebooks/01-concepts/01-concepts", True), ("book/01-concepts", False),
    ("notebooks/01-concepts/other", False), ("notebooks/README", False)])
def test_only_exercise_pages_get_one(docname: str, exercise: bool) -> None:
    assert bool(EXERCISE_PAGE.match(docname)) is exercise
