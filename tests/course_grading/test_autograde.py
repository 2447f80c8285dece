"""course_grading.autograde without a kernel (real classes are graded in tests/grading_runs)."""

from __future__ import annotations

import importlib
import queue
from pathlib import Path

import pytest

from course_grading.autograde import RunLimits, _last_error, autograde
from course_grading.course import GradingError

# the module, which the package's autograde() function hides
autograde_module = importlib.import_module("course_grading.autograde")


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


def test_the_assignment_is_recorded_in_the_gradebook_again_only_when_needed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    (tmp_path / "source" / "01").mkdir(parents=True)
    source = tmp_path / "source" / "01" / "01.ipynb"
    source.write_text("tests v1")
    generated, in_gradebook = [], {"01": False}

    def generate(nbgrader, course_root, name, scratch) -> None:
        generated.append(name)
        in_gradebook[name] = True

    monkeypatch.setattr(autograde_module, "generate_assignment", generate)
    monkeypatch.setattr(autograde_module, "holds_assignment", lambda root, name: in_gradebook[name])
    run = autograde_module._Run(tmp_path, tmp_path / "scratch", RunLimits(), queue.Queue(),
                         1, False, False, True, None)
    run.runners.put(None)
    autograde_module._record_in_gradebook(run, "01")
    autograde_module._record_in_gradebook(run, "01")
    assert generated == ["01"], "unchanged and in the gradebook: recorded once"
    in_gradebook["01"] = False
    autograde_module._record_in_gradebook(run, "01")
    assert generated == ["01", "01"], "a gradebook that lost the assignment gets it again"
    source.write_text("tests v2")
    autograde_module._record_in_gradebook(run, "01")
    assert generated == ["01", "01", "01"], "a changed source notebook is recorded again"
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'postgresql+psycopg://g@/other'\n")
    autograde_module._record_in_gradebook(run, "01")
    assert len(generated) == 4, "another gradebook gets the assignment too"
    key = (tmp_path / ".grading" / "01.generated").read_text()
    assert "other" not in key and "postgresql" not in key, "the gradebook's URL is not stored"


def test_the_exchange_files_follow_the_latest_submission(tmp_path: Path) -> None:
    submitted, feedback = tmp_path / "submitted", tmp_path / "feedback"
    submitted.mkdir()
    feedback.mkdir()
    (submitted / "submission_secret.txt").write_text("new secret")
    (feedback / "submission_secret.txt").write_text("old secret")
    (feedback / "timestamp.txt").write_text("an earlier submission's time")
    autograde_module._copy_exchange_files(submitted, feedback, autograde_module.EXCHANGE_FILES)
    assert (feedback / "submission_secret.txt").read_text() == "new secret", \
        "feedback released under an old secret would never reach the student"
    assert not (feedback / "timestamp.txt").exists(), "a file the submission lacks is not kept"
    autograde_module._copy_exchange_files(submitted, tmp_path / "missing",
                                          autograde_module.EXCHANGE_FILES)
    assert not (tmp_path / "missing").exists(), "no folder is made"
