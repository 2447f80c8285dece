"""course_grading.fingerprints: what makes a submission 'changed', and its record on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_grading.fingerprints import (
    RECORDS_FOLDER,
    GradingRecord,
    assignment_fingerprint,
    read_generated,
    read_record,
    submission_fingerprint,
    write_generated,
    write_record,
)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    (tmp_path / "source" / "01").mkdir(parents=True)
    (tmp_path / "source" / "01" / "01.ipynb").write_text("tests v1")
    (tmp_path / "submitted" / "ada" / "01").mkdir(parents=True)
    (tmp_path / "submitted" / "ada" / "01" / "01.ipynb").write_text("answer v1")
    return tmp_path


def test_a_submission_changes_with_any_of_its_files(course: Path) -> None:
    before = submission_fingerprint(course, "01", "ada")
    assert submission_fingerprint(course, "01", "ada") == before  # stable
    (course / "submitted" / "ada" / "01" / "01.ipynb").write_text("answer v2")
    edited = submission_fingerprint(course, "01", "ada")
    assert edited != before
    (course / "submitted" / "ada" / "01" / "data.csv").write_text("1,2")
    assert submission_fingerprint(course, "01", "ada") not in {before, edited}


def test_renaming_a_file_changes_the_fingerprint_too(course: Path) -> None:
    before = submission_fingerprint(course, "01", "ada")
    folder = course / "submitted" / "ada" / "01"
    (folder / "01.ipynb").rename(folder / "other.ipynb")
    assert submission_fingerprint(course, "01", "ada") != before


def test_the_assignment_changes_with_its_tests_or_the_configuration(course: Path) -> None:
    before = assignment_fingerprint(course, "01")
    (course / "source" / "01" / "01.ipynb").write_text("tests v2")
    after_tests = assignment_fingerprint(course, "01")
    assert after_tests != before
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = 5\n")
    assert assignment_fingerprint(course, "01") not in {before, after_tests}


@pytest.mark.parametrize(("edit", "regrades"), [
    # settings no grade depends on
    ("c.CourseDirectory.db_url = 'postgresql+psycopg://grader@db/gradebook'", False),
    ("c.CourseDirectory.course_id = 'spring-term'", False),
    ("c.FileNameCollectorPlugin.named_regexp = r'(?P<student_id>.+)_(?P<file_id>.+)'", False),
    ("c.Exchange.root = '/srv/exchange'", False),
    ("# a comment, and a blank line\n", False),
    # settings a grade depends on
    ("c.Execute.timeout = 30", True),
    ("c.GuardedExecute.memory_limit_mb = 2048", True),
    ("c.CourseDirectory.source_directory = 'source'", True),
    ("c.Autograde.autograde_preprocessors = ['nbgrader.preprocessors.SaveAutoGrades']", True),
])
def test_only_settings_a_grade_depends_on_re_grade(course: Path, edit: str,
                                                   regrades: bool) -> None:
    config = course / "nbgrader_config.py"
    config.write_text("c = get_config()\nc.Execute.timeout = 60\n")
    before = assignment_fingerprint(course, "01")
    config.write_text(config.read_text() + edit + "\n")
    assert (assignment_fingerprint(course, "01") != before) is regrades


def test_a_record_is_read_back_as_written(course: Path) -> None:
    assert read_record(course, "01", "ada") is None
    record = GradingRecord("s" * 64, "a" * 64, "graded", "")
    write_record(course, "01", "ada", record)
    assert read_record(course, "01", "ada") == record
    assert [p.name for p in (course / RECORDS_FOLDER / "01").iterdir()] == ["ada.json"]


def test_an_unreadable_record_counts_as_none(course: Path) -> None:
    path = course / RECORDS_FOLDER / "01" / "ada.json"
    path.parent.mkdir(parents=True)
    for text in ["{", "[]", '{"submission": "x"}']:
        path.write_text(text)
        assert read_record(course, "01", "ada") is None


def test_what_the_gradebook_was_given_is_read_back_and_kept_apart_from_students(
        course: Path) -> None:
    assert read_generated(course, "01") is None
    write_generated(course, "01", "key one")
    write_generated(course, "01", "key two")
    assert read_generated(course, "01") == "key two", "the last key written is the one read"
    write_record(course, "01", "ada", GradingRecord("s" * 64, "a" * 64, "graded", ""))
    assert sorted(p.name for p in (course / RECORDS_FOLDER / "01").iterdir()) == ["ada.json"], \
        "the assignment's key is not a student's record"
