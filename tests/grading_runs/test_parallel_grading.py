"""A class graded two submissions at a time against a PostgreSQL gradebook, then incrementally.

A throwaway PostgreSQL cluster (course_grading.postgres) holds the gradebook, named by the
course's nbgrader_config.py as a class would. The run must give every submission its score with
no row lost or duplicated; a second run grades nothing; a changed submission alone is graded
again; manual grades survive a re-grade, flagged for review only when the work changed.
"""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import nbformat
import pytest

from course_grading.autograde import autograde
from course_grading.export import export_grades
from course_grading.gradebook import open_gradebook
from course_grading.postgres import TemporaryPostgres, server_programs
from tests.grading_runs.partial_submissions import PARTIAL_SUBMISSIONS
from tests.support import REPO, make_course, read_notebook, submit

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(server_programs() is None, reason="PostgreSQL not installed")]
ASSIGNMENT = "01-concepts"
PARTIAL = next(p for p in PARTIAL_SUBMISSIONS if p.assignment == ASSIGNMENT)
EXPECTED = {"ada": 10.0, "bob": 0.0, "cy": PARTIAL.expected_score, "dee": 10.0, "eve": 0.0,
            "fay": 10.0}


def notebook_for(score: float) -> nbformat.NotebookNode:
    if score == 10:
        return read_notebook("solutions", ASSIGNMENT)
    return PARTIAL.notebook() if score else read_notebook("notebooks", ASSIGNMENT)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    with TemporaryPostgres() as server:
        root = make_course(tmp_path_factory.mktemp("parallel"), db_url=server.url)
        for student, score in EXPECTED.items():
            submit(root, student, ASSIGNMENT, notebook_for(score))
        report = io.StringIO()
        scores = autograde(root, [ASSIGNMENT], jobs=2, progress=report)
        yield {"root": root, "scores": {s.student: s for s in scores},
               "report": report.getvalue()}


def grade_count(root: Path) -> int:
    source = read_notebook("solutions", ASSIGNMENT)
    return sum(bool(c.metadata.get("nbgrader", {}).get("grade")) for c in source.cells)


def test_every_submission_gets_its_score(course) -> None:
    scores = course["scores"]
    assert {student: s.score for student, s in scores.items()} == EXPECTED
    assert all(s.graded_now and s.status == "graded" for s in scores.values())


def test_the_gradebook_holds_each_submission_once_with_all_its_grades(course) -> None:
    assert not (course["root"] / "gradebook.db").exists()  # nothing went to SQLite
    with open_gradebook(course["root"]) as gradebook:
        submissions = gradebook.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student.id for s in submissions) == sorted(EXPECTED)
        for submission in submissions:
            (notebook,) = submission.notebooks
            assert len(notebook.grades) == grade_count(course["root"])


def test_progress_reports_each_submission_with_the_time_left(course) -> None:
    lines = course["report"].splitlines()
    assert len(lines) == len(EXPECTED)
    assert lines[-1].startswith(f"[{'#' * 20}] {len(EXPECTED)}/{len(EXPECTED)}")
    assert all("elapsed, about" in line and "left" in line for line in lines)


def test_a_second_run_grades_nothing_and_changes_no_feedback(course) -> None:
    root = course["root"]
    feedback = sorted((root / "feedback").rglob("*.html"))
    before = {path: path.stat().st_mtime_ns for path in feedback}
    report = io.StringIO()
    scores = autograde(root, [ASSIGNMENT], jobs=2, progress=report)
    assert {s.student: s.score for s in scores} == EXPECTED
    assert not any(s.graded_now for s in scores)
    assert report.getvalue() == ""
    assert {path: path.stat().st_mtime_ns for path in feedback} == before


def test_a_changed_submission_alone_is_graded_again(course) -> None:
    root = course["root"]
    submit(root, "cy", ASSIGNMENT, notebook_for(10))
    scores = {s.student: s for s in autograde(root, [ASSIGNMENT], jobs=2)}
    assert [student for student, s in scores.items() if s.graded_now] == ["cy"]
    assert scores["cy"].score == 10


def set_manual_grade(root: Path, student: str, grade_id: str, points: float) -> None:
    with open_gradebook(root) as gradebook:
        grade = gradebook.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
        grade.manual_score = points
        grade.needs_manual_grade = False
        gradebook.db.commit()


def manual_grade(root: Path, student: str, grade_id: str) -> tuple[float, bool]:
    with open_gradebook(root) as gradebook:
        grade = gradebook.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
        return grade.manual_score, grade.needs_manual_grade


def test_a_manual_grade_survives_a_regrade_without_being_flagged_again(course) -> None:
    root = course["root"]
    set_manual_grade(root, "ada", "test-part-1", 1.0)
    (score,) = autograde(root, [ASSIGNMENT], only=["ada"], regrade=True)
    assert score.graded_now and score.score == 9.0 and score.manual == ("test-part-1",)
    assert "manual grade kept" in score.reason and "review" not in score.reason
    assert manual_grade(root, "ada", "test-part-1") == (1.0, False)


def test_a_manual_grade_of_work_that_changed_is_kept_and_flagged_for_review(course) -> None:
    root = course["root"]
    set_manual_grade(root, "bob", "test-part-2", 1.0)
    submit(root, "bob", ASSIGNMENT, notebook_for(10))
    (score,) = autograde(root, [ASSIGNMENT], only=["bob"])
    assert score.graded_now and score.manual == ("test-part-2",)
    assert "the submission changed since: review it" in score.reason
    assert manual_grade(root, "bob", "test-part-2") == (1.0, True)


def test_export_writes_every_grade_to_the_ignored_folder(course) -> None:
    root = course["root"]
    path = export_grades(root)
    assert path == root / "exports" / "grades.csv"
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert sorted(row["student_id"] for row in rows) == sorted(EXPECTED)
    assert not (root / "grades.csv").exists()  # not where nbgrader would put it
    for private in ("exports/grades.csv", ".grading/01-concepts/ada.json", "grades.csv"):
        ignored = subprocess.run(["git", "check-ignore", "-q", private], cwd=REPO)
        assert ignored.returncode == 0, f"{private} is not git-ignored"
