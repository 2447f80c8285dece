"""course_grading.autograde without a kernel (real classes are graded in tests/grading_runs)."""

from __future__ import annotations

from pathlib import Path

from course_grading.autograde import RunLimits, _last_error, autograde


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
