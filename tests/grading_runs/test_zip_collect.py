"""An LMS's zip of two students' exercise-1 notebooks collected by nbgrader's zip_collect
(``make collect-zip``), then graded as usual (``make grade``), in a scratch course.

The solution must score full marks and the untouched released copy zero; collecting the same
zip again changes nothing, and a later zip with a different notebook for a student who already
has a submission is refused, that submission kept as it was.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_grading.autograde import autograde
from course_grading.course import GradingError
from course_grading.zip_collect import collect_zip
from tests.support import REPO, make_course

pytestmark = pytest.mark.slow
ASSIGNMENT = "01-concepts"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOLUTION = REPO / "solutions" / ASSIGNMENT / NOTEBOOK
RELEASED = REPO / "notebooks" / ASSIGNMENT / NOTEBOOK


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The zip collected through the command line, as `make collect-zip` runs it."""
    scratch = tmp_path_factory.mktemp("zip-collect")
    root = make_course(scratch / "course")
    archive = scratch / "Exercise 1 submissions.zip"
    with zipfile.ZipFile(archive, "w") as lms_zip:
        lms_zip.write(SOLUTION, f"ada_1001/{NOTEBOOK}")
        lms_zip.write(RELEASED, f"bob.smith_1002/{NOTEBOOK}")
        lms_zip.writestr("index.html", "<p>Downloaded from the LMS</p>")
        # what macOS's Finder adds when a teacher re-zips the folder: never a student's work
        lms_zip.writestr(f"__MACOSX/ivy_1003/._{NOTEBOOK}", b"\x00\x05\x16\x07 resource fork")
    run = subprocess.run([sys.executable, "-m", "course_grading", "collect-zip", ASSIGNMENT,
                          str(archive)], cwd=root, capture_output=True, text=True, timeout=120,
                         check=False)
    return {"root": root, "zip": archive, "run": run}


def test_each_students_notebook_lands_in_submitted(course) -> None:
    run, root = course["run"], course["root"]
    assert run.returncode == 0, f"collect-zip failed: {run.stderr[-2000:]}"
    for student, source in [("ada", SOLUTION), ("bob.smith", RELEASED)]:
        collected = root / "submitted" / student / ASSIGNMENT / NOTEBOOK
        assert collected.read_bytes() == source.read_bytes(), f"{student}'s notebook as submitted"
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["ada", "bob.smith"], (
        "one folder per student, named by the id in the zip")
    kept = root / "downloaded" / ASSIGNMENT / "archive" / course["zip"].stem / course["zip"].name
    with zipfile.ZipFile(kept) as kept_zip, zipfile.ZipFile(course["zip"]) as original:
        assert kept_zip.namelist() == [n for n in original.namelist()
                                       if not n.startswith("__MACOSX/")], \
            "the zip is kept for nbgrader, without macOS's folder"


def test_collect_zip_prints_what_it_collected_per_student(course) -> None:
    lines = course["run"].stdout.splitlines()
    assert lines[:2] == [f"{ASSIGNMENT}  ada        {NOTEBOOK}",
                         f"{ASSIGNMENT}  bob.smith  {NOTEBOOK}"], f"per student: {lines}"
    assert "skipped 1 file(s) not named as the course expects: index.html" in lines, lines
    assert f"ignored 1 file(s) of macOS (__MACOSX/) or hidden: __MACOSX/ivy_1003/._{NOTEBOOK}" \
        in lines, lines
    assert f"Next: make grade ASSIGNMENT={ASSIGNMENT}" in lines[-1], f"the next step: {lines}"


def test_collecting_again_changes_nothing_and_a_different_notebook_is_refused(
        course, tmp_path: Path) -> None:
    root = course["root"]
    again = collect_zip(root, ASSIGNMENT, course["zip"])
    assert [(c.student, c.new) for c in again.students] == [("ada", False), ("bob.smith", False)], (
        f"the same zip again collects nothing new: {again}")
    late = tmp_path / "late.zip"
    with zipfile.ZipFile(late, "w") as lms_zip:
        lms_zip.write(SOLUTION, f"bob.smith_1002/{NOTEBOOK}")  # bob's second try
        lms_zip.write(SOLUTION, f"cy_1003/{NOTEBOOK}")
    with pytest.raises(GradingError, match="bob.smith already has a submission"):
        collect_zip(root, ASSIGNMENT, late)
    bob = root / "submitted" / "bob.smith" / ASSIGNMENT / NOTEBOOK
    assert bob.read_bytes() == RELEASED.read_bytes(), "bob's submission must be kept as it was"
    assert not (root / "submitted" / "cy").exists(), "a refused zip collects nobody"


def test_the_collected_submissions_grade_as_usual(course) -> None:
    scores = {s.student: s for s in autograde(course["root"], [ASSIGNMENT], feedback=False)}
    assert set(scores) == {"ada", "bob.smith"}, f"both collected students graded: {scores}"
    assert scores["ada"].score == scores["ada"].max_score > 0, f"the solution: {scores['ada']}"
    assert scores["bob.smith"].score == 0, f"the untouched copy: {scores['bob.smith']}"
