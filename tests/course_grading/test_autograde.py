"""course_grading.autograde without a kernel (real classes are graded in tests/grading_runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_grading.autograde import RunLimits, _last_error, autograde
from course_grading.course import GradingError


def test_autograde_with_no_submissions_returns_nothing_and_writes_no_gradebook(
    tmp_path: Path,
) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert autograde(tmp_path) == []
    assert not (tmp_path / "gradebook.db").exists()


def test_limits_become_nbgrader_options_and_a_process_timeout(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Execute.timeout = 30\nc.GuardedExecute.notebook_timeout = 200\n")
    assert RunLimits().nbgrader_options() == []
    assert RunLimits().process_timeout(tmp_path) == 200 + 30 + 120
    limits = RunLimits(cell_timeout=5, memory_mb=1024, sandbox=False)
    assert limits.nbgrader_options() == ["--GuardedExecute.sandbox=False", "--Execute.timeout=5",
                                         "--GuardedExecute.memory_limit_mb=1024"]
    assert limits.process_timeout(tmp_path) == 200 + 5 + 120


def test_last_error_prefers_the_exception_to_generic_log_lines() -> None:
    log = ("[AutogradeApp | ERROR] There was an error processing assignment\n"
           "Traceback (most recent call last):\n"
           "nbformat.ValidationError: newer version of the schema\n"
           "[AutogradeApp | ERROR] Please see the error log\n")
    assert _last_error(log) == "nbformat.ValidationError: newer version of the schema"
    assert _last_error("") == "no output"


def test_several_jobs_on_a_sqlite_gradebook_are_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(GradingError, match="db_url.*PostgreSQL"):
        autograde(tmp_path, jobs=2)
    with pytest.raises(GradingError, match="1 or more"):
        autograde(tmp_path, jobs=0)


def test_several_jobs_are_accepted_on_a_server_gradebook(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'postgresql+psycopg://grader@/gradebook'\n")
    assert autograde(tmp_path, jobs=4) == []  # nothing submitted: no database is touched
