"""course_grading.course: the folders and settings of a course root, read from its config."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_grading import course


def make_root(tmp_path: Path, config: str = "", *assignments: str) -> Path:
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\n{config}")
    for name in assignments:
        (tmp_path / "solutions" / name).mkdir(parents=True)
    return tmp_path


def test_folders_follow_the_config_and_default_to_nbgraders(tmp_path: Path) -> None:
    root = make_root(tmp_path, 'c.CourseDirectory.source_directory = "solutions"\n')
    assert course.folder(root, "source") == root / "solutions"
    assert course.folder(root, "release") == root / "release"  # nbgrader's default
    with pytest.raises(ValueError, match="kind must be one of"):
        course.folder(root, "gradebook")


def test_the_repository_is_a_course_root() -> None:
    from tests.support import REPO

    assert course.folder(REPO, "source") == REPO / "solutions"
    assert course.folder(REPO, "release") == REPO / "notebooks"
    assert course.assignments(REPO)[0] == "01-concepts"


def test_assignments_lists_solution_folders_in_order(tmp_path: Path) -> None:
    root = make_root(tmp_path, 'c.CourseDirectory.source_directory = "solutions"\n',
                     "02-b", "01-a")
    (root / "solutions" / ".ipynb_checkpoints").mkdir()
    assert course.assignments(root) == ["01-a", "02-b"]


def test_source_notebooks_are_an_assignments_notebooks_in_order(tmp_path: Path) -> None:
    root = make_root(tmp_path, 'c.CourseDirectory.source_directory = "solutions"\n', "01-a")
    for name in ("b.ipynb", "a.ipynb", "notes.md"):
        (root / "solutions" / "01-a" / name).write_text("{}")
    assert course.source_notebooks(root, "01-a") == [root / "solutions" / "01-a" / "a.ipynb",
                                                      root / "solutions" / "01-a" / "b.ipynb"]
    assert course.source_notebooks(root, "02-none") == []


def test_submissions_are_listed_by_assignment_and_student(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    assert course.submitted_assignments(root) == []
    for student, assignment in [("bo", "01-a"), ("al", "01-a"), ("al", "02-b")]:
        (root / "submitted" / student / assignment).mkdir(parents=True)
    assert course.submitted_assignments(root) == ["01-a", "02-b"]
    assert course.students(root, "01-a") == ["al", "bo"]
    assert course.students(root, "02-b") == ["al"]


def test_a_folder_without_config_has_an_empty_config(tmp_path: Path) -> None:
    assert course.load_config(tmp_path) == {}
