"""nbgrader round trip: release matches the committed student copies, and autograding gives
full marks to the solution, zero to the untouched copy and the right partial score in between."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_grading.autograde import autograde
from course_grading.course import assignments
from course_grading.release import release
from tests.grading_runs.partial_submissions import PARTIAL_SUBMISSIONS
from tests.support import REPO, make_course, submit

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignments(REPO)
# graded untouched end to end here; every part of every exercise left as released is graded by
# the mutation suite (test_mutations.py), without a kernel start and a training run each
UNTOUCHED = ASSIGNMENTS[:1]


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """One `make release` of every assignment in a scratch course: (course, notebooks written)."""
    course = make_course(tmp_path_factory.mktemp("release") / "course")
    return course, release(course)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_reproduces_the_committed_student_copy(released, assignment: str) -> None:
    course, written = released
    fresh = sorted(p for p in written if p.parent.name == assignment)
    committed = sorted((REPO / "notebooks" / assignment).glob("*.ipynb"))
    assert [p.name for p in fresh] == [p.name for p in committed]
    for new, old in zip(fresh, committed):
        assert json.loads(new.read_text()) == json.loads(old.read_text()), (
            f"{old.relative_to(REPO)} is stale: run `make release` and commit the result"
        )


def test_release_leaves_no_gradebook_behind(released) -> None:
    course, _ = released
    assert not (course / "gradebook.db").exists(), "release must not leave a gradebook behind"


def test_student_copy_has_no_solutions_or_hidden_tests() -> None:
    for path in (REPO / "notebooks").rglob("*.ipynb"):
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            assert marker not in text, f"{path.relative_to(REPO)} leaks {marker!r}"
        # hidden tests name their generator `_rng`; a task may still mention np.random.default_rng
        assert not re.search(r"(?<!\w)_rng\b", text), f"{path.relative_to(REPO)} leaks '_rng'"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    """One autograde run over a small class: solution, untouched copy, partly correct."""
    course = make_course(tmp_path_factory.mktemp("class"))
    for assignment in ASSIGNMENTS:
        name = f"{assignment}.ipynb"
        submit(course, "solution", assignment,
               nbformat.read(REPO / "solutions" / assignment / name, as_version=4))
        if assignment in UNTOUCHED:
            submit(course, "untouched", assignment,
                   nbformat.read(REPO / "notebooks" / assignment / name, as_version=4))
    for partial in PARTIAL_SUBMISSIONS:
        submit(course, "partly-correct", partial.assignment, partial.notebook())
    scores = autograde(course)
    return course, {f"{s.student}/{s.assignment}": s.score for s in scores} | {
        f"max/{s.assignment}": s.max_score for s in scores
    }


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(graded_class, assignment: str) -> None:
    _, scores = graded_class
    assert scores[f"max/{assignment}"] > 0
    assert scores[f"solution/{assignment}"] == scores[f"max/{assignment}"]


@pytest.mark.parametrize("assignment", UNTOUCHED)
def test_untouched_student_copy_gets_zero(graded_class, assignment: str) -> None:
    _, scores = graded_class
    assert scores[f"untouched/{assignment}"] == 0


def test_every_exercise_has_a_partly_correct_submission() -> None:
    assert sorted(p.assignment for p in PARTIAL_SUBMISSIONS) == ASSIGNMENTS


@pytest.mark.parametrize("partial", PARTIAL_SUBMISSIONS, ids=lambda p: p.assignment)
def test_partly_correct_submission_gets_its_partial_score(graded_class, partial) -> None:
    _, scores = graded_class
    assert 0 < partial.expected_score < scores[f"max/{partial.assignment}"]
    assert scores[f"partly-correct/{partial.assignment}"] == partial.expected_score


def test_feedback_is_written_for_every_submission(graded_class) -> None:
    course, scores = graded_class
    graded = [key for key in scores if not key.startswith("max/")]
    for key in graded:
        student, assignment = key.split("/")
        assert (course / "feedback" / student / assignment / f"{assignment}.html").is_file()
