"""nbgrader round trip: release matches the committed student copies, and autograding gives
full marks to the solution, zero to the untouched copy and the right partial score in between."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from course_utils import grading
from tests.grading.conftest import REPO, answer_cells, make_course, solution_source, submit

pytestmark = pytest.mark.slow
ASSIGNMENTS = grading.assignments(REPO)

# Chapter 1's partly correct submission: parts 1 and 3 solved, part 4 wrong (the step goes
# up the gradient), parts 2 and 5 untouched. 2 + 2 points of 10.
CHAPTER_1 = "01-concepts"
PARTLY_CORRECT_SCORE = 4.0
WRONG_GRADIENT_STEP = '''
def gradient_step(w, b, x, y, learning_rate):
    error = x @ w + b - y
    return w + learning_rate * 2 * x.T @ error / len(x), b + learning_rate * 2 * error.mean()
'''


def partly_correct_submission() -> nbformat.NotebookNode:
    notebook = nbformat.read(REPO / "notebooks" / CHAPTER_1 / f"{CHAPTER_1}.ipynb", as_version=4)
    cells = answer_cells(notebook)
    for grade_id in ("part-1-relu-sigmoid", "part-3-dense-forward"):
        cells[grade_id].source = solution_source(CHAPTER_1, grade_id)
    cells["part-4-gradient-step"].source = WRONG_GRADIENT_STEP.strip()
    return notebook


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_reproduces_the_committed_student_copy(tmp_path: Path, assignment: str) -> None:
    course = make_course(tmp_path / "course")
    written = grading.release(course, [assignment])
    committed = sorted((REPO / "notebooks" / assignment).glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in committed]
    for fresh, old in zip(written, committed):
        assert json.loads(fresh.read_text()) == json.loads(old.read_text()), (
            f"{old.relative_to(REPO)} is stale: run `make release` and commit the result"
        )
    assert not (course / "gradebook.db").exists(), "release must not leave a gradebook behind"


def test_student_copy_has_no_solutions_or_hidden_tests() -> None:
    for path in (REPO / "notebooks").rglob("*.ipynb"):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "_rng"):
            assert marker not in text, f"{path.relative_to(REPO)} leaks {marker!r}"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    """One autograde run over a small class: solution, untouched copy, partly correct."""
    course = make_course(tmp_path_factory.mktemp("class"))
    for assignment in ASSIGNMENTS:
        name = f"{assignment}.ipynb"
        submit(course, "solution", assignment,
               nbformat.read(REPO / "solutions" / assignment / name, as_version=4))
        submit(course, "untouched", assignment,
               nbformat.read(REPO / "notebooks" / assignment / name, as_version=4))
    submit(course, "partly-correct", CHAPTER_1, partly_correct_submission())
    scores = grading.autograde(course)
    return course, {f"{s.student}/{s.assignment}": s.score for s in scores} | {
        f"max/{s.assignment}": s.max_score for s in scores
    }


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(graded_class, assignment: str) -> None:
    _, scores = graded_class
    assert scores[f"max/{assignment}"] > 0
    assert scores[f"solution/{assignment}"] == scores[f"max/{assignment}"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_student_copy_gets_zero(graded_class, assignment: str) -> None:
    _, scores = graded_class
    assert scores[f"untouched/{assignment}"] == 0


def test_partly_correct_submission_gets_its_partial_score(graded_class) -> None:
    _, scores = graded_class
    assert scores[f"max/{CHAPTER_1}"] == 10
    assert scores[f"partly-correct/{CHAPTER_1}"] == PARTLY_CORRECT_SCORE


def test_feedback_is_written_for_every_submission(graded_class) -> None:
    course, scores = graded_class
    graded = [key for key in scores if not key.startswith("max/")]
    for key in graded:
        student, assignment = key.split("/")
        assert (course / "feedback" / student / assignment / f"{assignment}.html").is_file()
