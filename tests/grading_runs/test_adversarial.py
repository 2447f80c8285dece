"""The adversarial class: every bad submission of adversarial.py (beside this file) graded in ONE
run, two at a time (JOBS=2), against a PostgreSQL gradebook, as a class would grade it.

Checks that the run finishes, that each submission gets exactly its expected outcome, that a
manual grade entered before the run survives a re-grade of the same work without being flagged
again, that feedback HTML exists for every student without hidden-test source, and that student
code could neither read solutions/ nor write the gradebook. Short limits keep the infinite loops
cheap.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
import pytest

from course_grading import sandbox
from course_grading.autograde import RunLimits, autograde
from course_grading.gradebook import open_gradebook
from course_grading.postgres import TemporaryPostgres, server_programs
from tests.grading_runs import adversarial
from tests.grading_runs.adversarial import ASSIGNMENT, EXPECTED, MANUAL, NOTEBOOK, SECRET
from tests.support import REPO, make_course

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(server_programs() is None, reason="PostgreSQL not installed")]
LIMITS = RunLimits(cell_timeout=10, notebook_timeout=60, memory_mb=2048)
ISOLATED = sandbox.can_isolate()
NEEDS_ISOLATION = {"submission-reads-solutions", "submission-writes-gradebook"}
POSTGRES_SOCKET = ".s.PGSQL.5432"  # PostgreSQL's Unix socket, in the server's folder


def hidden_test_lines() -> list[str]:
    """Every non-blank line between the hidden-test markers of the solution."""
    text = (REPO / "solutions" / ASSIGNMENT / NOTEBOOK).read_text()
    notebook = nbformat.reads(text, as_version=4)
    lines = []
    for cell in notebook.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                cell.source, flags=re.DOTALL):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 12]
    return lines


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with TemporaryPostgres() as server:
        course = make_course(tmp_path_factory.mktemp("adversarial"), server.url)
        yield grade_the_class(course, server.folder / POSTGRES_SOCKET)


def grade_the_class(course: Path, gradebook_socket: Path) -> dict:
    # a first run grades one student, and the instructor then enters a manual grade
    student, grade_id, manual = MANUAL
    adversarial.build(course, gradebook_socket)
    assert gradebook_socket.exists()  # the probe aims at the real server
    everyone = sorted((course / "submitted").iterdir())
    parked = course / "parked"
    parked.mkdir()
    for folder in everyone:
        if folder.name != student:
            folder.rename(parked / folder.name)
    autograde(course, [ASSIGNMENT], LIMITS, jobs=2)
    with open_gradebook(course) as gradebook:
        grade = gradebook.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
        grade.manual_score = manual
        gradebook.db.commit()
        grades_before = len(gradebook.find_submission(ASSIGNMENT, student).notebooks[0].grades)
    for folder in parked.iterdir():
        folder.rename(course / "submitted" / folder.name)
    parked.rmdir()

    os.environ[SECRET[0]] = SECRET[1]  # a credential of the grader, which no kernel may see
    start = time.monotonic()
    try:
        # regrade: the manual grade's submission, unchanged, is graded again too
        scores = autograde(course, [ASSIGNMENT], LIMITS, jobs=2, regrade=True)
    finally:
        del os.environ[SECRET[0]]
    seconds = time.monotonic() - start
    print(f"\nadversarial class: {len(scores)} submissions graded in {seconds:.0f} s")
    for s in scores:
        print(f"  {s.student:<40} {s.score:>4g} / {s.max_score:g}  {s.status:<9} {s.reason[:90]}")
    return {"course": course, "scores": {s.student: s for s in scores}, "seconds": seconds,
            "grades_before": grades_before}


def test_every_fixture_is_graded_in_one_run(graded) -> None:
    assert sorted(graded["scores"]) == sorted(EXPECTED)
    assert all(s.max_score == 10 for s in graded["scores"].values())


def test_there_are_at_least_22_bad_submissions() -> None:
    assert len([name for name in EXPECTED if name != "submission-clean"]) >= 22


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_submission_gets_its_expected_outcome(graded, student: str) -> None:
    if student in NEEDS_ISOLATION and not ISOLATED:
        pytest.skip("file-system isolation needs root and mount namespaces")
    score, expected = graded["scores"][student], EXPECTED[student]
    assert (score.score, score.status) == (expected.score, expected.status), score.reason
    assert expected.reason in score.reason


def test_the_class_is_graded_within_the_time_budget(graded) -> None:
    assert graded["seconds"] < 300


def test_manual_grade_survives_regrading(graded) -> None:
    student, grade_id, manual = MANUAL
    with open_gradebook(graded["course"]) as gradebook:
        grade = gradebook.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
        assert grade.manual_score == manual
        assert grade.auto_score == 2  # re-graded automatically, and still overridden
        assert not grade.needs_manual_grade  # the same work: not flagged for review again
        submission = gradebook.find_submission(ASSIGNMENT, student)
        assert len(submission.notebooks[0].grades) == graded["grades_before"]


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_feedback_exists_without_hidden_tests(graded, student: str) -> None:
    page = graded["course"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    text = page.read_text()
    assert "BEGIN HIDDEN TESTS" not in text
    leaked = [line for line in hidden_test_lines() if line in text]
    assert leaked == []


def test_outputs_are_capped(graded) -> None:
    course = graded["course"]
    for student in ("submission-huge-single-line-output", "submission-huge-html-output"):
        notebook = course / "autograded" / student / ASSIGNMENT / NOTEBOOK
        assert notebook.stat().st_size < 1_000_000
        assert "truncated by the grader" in notebook.read_text() or \
            "removed by the grader" in notebook.read_text()


@pytest.mark.skipif(not ISOLATED, reason="file-system isolation needs root and namespaces")
def test_student_code_could_not_read_solutions_or_write_the_gradebook(graded) -> None:
    course: Path = graded["course"]
    for student in sorted(NEEDS_ISOLATION) + ["submission-reads-environment"]:
        notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / NOTEBOOK, 4)
        printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                          for o in c.outputs)
        assert "blocked:" in printed and "LEAK" not in printed
    with open_gradebook(course) as gradebook:  # the PostgreSQL gradebook holds the whole class
        assert len(gradebook.assignment_submissions(ASSIGNMENT)) == len(EXPECTED)
