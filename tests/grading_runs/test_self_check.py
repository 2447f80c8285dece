"""The self-studying learner's path on exercise 1, through the real commands.

A workspace copy is made (``make lab``), a wrong answer that the visible tests let through goes
in, and the check command (``make check-exercise``) names the failing part with its hidden
test's message; once the answer is right it gives full marks; ``make release`` and a second
``make lab`` leave the learner's copy as it was.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_grading.release import release
from course_utils import workspace
from tests.grading_runs.partial_submissions import wrong_answer
from tests.support import REPO, answer_cells, make_course, solution_source

pytestmark = pytest.mark.slow
ASSIGNMENT = "01-concepts"
PART_1 = "part-1-relu-sigmoid"


def check(course: Path, exercise: str) -> subprocess.CompletedProcess:
    """``make check-exercise EXERCISE=<exercise>`` in ``course``."""
    return subprocess.run(
        [sys.executable, "-m", "course_grading", "check", exercise], cwd=course,
        capture_output=True, text=True, timeout=300, check=False,
    )


def answer(copy: Path, part_1: str | None = None) -> None:
    """Fill the learner's copy with the instructor's answers, part 1 replaced if given."""
    notebook = nbformat.read(copy, as_version=4)
    for grade_id, cell in answer_cells(notebook).items():
        cell.source = solution_source(ASSIGNMENT, grade_id)
    if part_1 is not None:
        answer_cells(notebook)[PART_1].source = part_1
    nbformat.write(notebook, copy)


def test_the_learner_checks_their_own_copy_and_keeps_it(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    shutil.copytree(REPO / "notebooks", course / "notebooks")
    made = workspace.create_workspace(course)
    copy = course / "work" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert copy in made

    naive = wrong_answer(ASSIGNMENT, "naive sigmoid that overflows for large negative z")
    answer(copy, naive["code"].strip())
    before = copy.read_bytes()
    wrong = check(course, "01")
    assert wrong.returncode == 0, wrong.stderr[-3000:]
    lines = {line.split()[0]: line for line in wrong.stdout.splitlines()[2:] if line.strip()}
    assert "8 / 10 points" in wrong.stdout
    assert "0 / 2" in lines["test-part-1"] and "sigmoid overflows" in lines["test-part-1"]
    assert all("passed" in line for grade_id, line in lines.items() if grade_id != "test-part-1")
    assert copy.read_bytes() == before  # only read
    assert not (course / "gradebook.db").exists() and not (course / "autograded").exists()

    answer(copy)
    right = check(course, str(copy))
    assert "10 / 10 points" in right.stdout, right.stdout + right.stderr[-3000:]

    mine = copy.read_bytes()
    release(course, [ASSIGNMENT])  # make release
    assert workspace.create_workspace(course) == []  # a second make lab copies nothing
    assert copy.read_bytes() == mine


def test_an_unknown_exercise_gets_a_clear_error(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    result = check(course, "42")
    assert result.returncode == 1
    assert "no single exercise notebook" in result.stderr and "make lab" in result.stderr
