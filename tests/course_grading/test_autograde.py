"""course_grading.autograde without a kernel (real classes are graded in tests/grading_runs)."""

from __future__ import annotations

import importlib
import queue
import shutil
import signal
import subprocess
from pathlib import Path

import nbformat
import pytest

from course_grading.autograde import RunLimits, _last_error, _run_notes, autograde
from course_grading.course import GradingError
from course_grading.fingerprints import read_record
from course_grading.gradebook import record_zero
from tests.support import REPO, answer_cells, read_notebook, submit

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


# --- one submission's trouble is its own: a run over three students, nbgrader faked ------------

ASSIGNMENT = "01-concepts"
STUDENTS = ["ada", "bob", "cy"]  # bob's grading goes wrong


class FakeNbgrader:
    """Stands in for NbgraderRunner: `autograde` puts the submission in the gradebook (with 0),
    `generate_feedback` writes a page; every command succeeds."""

    def __init__(self) -> None:
        self.timeouts: dict[str, float | None] = {}

    def __enter__(self) -> FakeNbgrader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def run(self, course_root: Path, command: str, assignment: str, *args: str,
            timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess:
        self.timeouts[command] = timeout
        student = args[args.index("--student") + 1]
        if command == "autograde":
            record_zero(course_root, assignment, student)
        elif command == "generate_feedback":
            page = course_root / "feedback" / student / assignment / f"{assignment}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("<p>nbgrader's feedback</p>")
        return subprocess.CompletedProcess(["nbgrader", command], 0, "", "")


@pytest.fixture(scope="module")
def gradebook_with_exercise_1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite gradebook that holds exercise 1, made once."""
    import nbgrader.api

    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with pytest.MonkeyPatch.context() as patch:
        # a new gradebook asks `alembic heads` (a process, seconds) for the version to stamp
        patch.setattr(nbgrader.api, "get_alembic_version", lambda: "unit-test")
        with nbgrader.api.Gradebook(f"sqlite:///{path}") as gradebook:
            gradebook.update_or_create_assignment(ASSIGNMENT)
    return path


@pytest.fixture
def class_of_three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   gradebook_with_exercise_1: Path) -> Path:
    """A course with exercise 1 in its gradebook and a clean submission from each student."""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    source = tmp_path / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy2(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", source)
    for student in STUDENTS:
        submit(tmp_path, student, ASSIGNMENT, read_notebook("notebooks", ASSIGNMENT))
    shutil.copy2(gradebook_with_exercise_1, tmp_path / "gradebook.db")
    monkeypatch.setattr(autograde_module, "NbgraderRunner", FakeNbgrader)
    return tmp_path


def fail_for_bob(monkeypatch: pytest.MonkeyPatch, name: str,
                 error: BaseException | None = None) -> None:
    """Make ``autograde_module.<name>`` raise ``error`` (a RuntimeError) for bob only."""
    real = getattr(autograde_module, name)

    def for_bob(*args, **kwargs):
        if any("bob" == a or isinstance(a, Path) and "bob" in a.parts for a in args):
            raise error or RuntimeError("boom in " + name)
        return real(*args, **kwargs)

    monkeypatch.setattr(autograde_module, name, for_bob)


def grade(course: Path) -> dict[str, autograde_module.Score]:
    scores = autograde(course, limits=RunLimits(sandbox=False), generate=False)
    return {score.student: score for score in scores}


@pytest.mark.parametrize("name", ["_checks", "_grade_one", "keep_manual_grades", "_feedback",
                                  "write_record"])
def test_a_crash_while_grading_one_student_fails_that_student_only(
        class_of_three: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fail_for_bob(monkeypatch, name)
    scores = grade(class_of_three)
    assert [scores[s].status for s in STUDENTS] == ["graded", "failed", "graded"]
    bob = scores["bob"]
    assert bob.score == 0 and f"grading stopped by RuntimeError: boom in {name}" in bob.reason
    page = (class_of_three / "feedback" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "failed" in page and "RuntimeError" in page
    assert "boom" not in page, "the student sees the kind of error, not its message"
    if name != "write_record":
        assert read_record(class_of_three, ASSIGNMENT, "bob").status == "failed"
    else:
        assert "no record (RuntimeError" in bob.reason
    run = autograde_module._Run(class_of_three, class_of_three, RunLimits(), queue.Queue(), 1,
                                False, True, False, None)
    todo, kept = autograde_module._to_grade(run, ASSIGNMENT, STUDENTS)
    assert todo == ["bob"], "the next run grades the failed submission again, and it alone"


def test_a_failure_that_cannot_even_record_the_zero_still_gets_a_score_line(
        class_of_three: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_for_bob(monkeypatch, "_checks")
    fail_for_bob(monkeypatch, "record_zero")  # the gradebook refuses bob's submission too
    bob = grade(class_of_three)["bob"]
    assert (bob.status, bob.score) == ("failed", 0)
    assert "0 not recorded in the gradebook" in bob.reason and "not in the gradebook" in bob.reason


def test_ctrl_c_still_stops_the_run(class_of_three: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_for_bob(monkeypatch, "_grade_one", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        grade(class_of_three)
    assert not (class_of_three / "feedback" / "cy").exists(), "nothing after bob was graded"


def test_a_review_finding_keeps_the_automatic_grade_and_a_change_zeroes(
        class_of_three: Path) -> None:
    for student, code in [("ada", "import inspect\n"),
                          ("bob", "np.testing.assert_allclose = print\n")]:
        notebook = read_notebook("notebooks", ASSIGNMENT)
        answer_cells(notebook)["part-1-relu-sigmoid"].source = code
        submit(class_of_three, student, ASSIGNMENT, notebook)
    scores = grade(class_of_three)
    assert [scores[s].status for s in STUDENTS] == ["review", "tampering", "graded"]
    assert "imports inspect" in scores["ada"].reason
    assert "np.testing.assert_allclose" in scores["bob"].reason
    # ada was run by nbgrader (and got its feedback page), bob was not
    assert "nbgrader's feedback" in (class_of_three / "feedback" / "ada" / ASSIGNMENT
                                     / f"{ASSIGNMENT}.html").read_text()
    assert "tampering" in (class_of_three / "feedback" / "bob" / ASSIGNMENT
                           / f"{ASSIGNMENT}.html").read_text()


@pytest.mark.parametrize(("content", "status", "word"), [
    ('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}", "rejected", "nested too deeply"),
    ("code:" + "-" * 100_000 + "1", "tampering", "too deeply nested"),
], ids=["submission-deeply-nested-json", "submission-deeply-nested-expression"])
def test_deeply_nested_submissions_are_outcomes_not_crashes(
        class_of_three: Path, content: str, status: str, word: str) -> None:
    path = class_of_three / "submitted" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if content.startswith("code:"):
        notebook = read_notebook("notebooks", ASSIGNMENT)
        answer_cells(notebook)["part-1-relu-sigmoid"].source = content.removeprefix("code:")
        nbformat.write(notebook, path)
    else:
        path.write_text(content)
    bob = grade(class_of_three)["bob"]
    assert (bob.status, bob.score) == (status, 0) and word in bob.reason


class TimedOutFeedback(FakeNbgrader):
    def run(self, course_root: Path, command: str, assignment: str, *args: str,
            timeout: float | None = None, check: bool = True) -> subprocess.CompletedProcess:
        self.timeouts[command] = timeout
        return subprocess.CompletedProcess(["nbgrader", command], -signal.SIGKILL, "",
                                           "[killed after 60 s]")


def test_feedback_that_times_out_gets_a_page_of_ours(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    source = tmp_path / "source" / "01" / "01.ipynb"
    page = tmp_path / "feedback" / "ada" / "01" / "01.html"
    page.parent.mkdir(parents=True)
    page.write_text("an earlier grading's feedback")
    nbgrader = TimedOutFeedback()
    note = autograde_module._feedback(nbgrader, tmp_path, "01", "ada", [source], "graded", "",
                                      RunLimits().feedback_timeout)
    assert nbgrader.timeouts == {"generate_feedback": 60}
    assert note == "feedback not generated: nbgrader ran out of time (60 s)"
    assert "could not be generated" in page.read_text(), "the stale page is replaced"


def test_run_notes_name_the_part_and_what_stopped_it(tmp_path: Path) -> None:
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    limit = "stopped at the time limit of 60 s for this cell"
    stopped = new_code_cell("test", outputs=[new_output(
        "error", ename="KeyboardInterrupt", evalue=limit, traceback=[])])
    stopped.metadata["nbgrader"] = {"grade_id": "test-part-3", "grade": True}
    unnamed = new_code_cell("x", outputs=[new_output("error", ename="NotRun", evalue="",
                                                     traceback=[])])
    nbformat.write(new_notebook(cells=[new_code_cell("setup"), stopped, unnamed]),
                   tmp_path / "a.ipynb")
    assert _run_notes(tmp_path) == [
        f"test-part-3: KeyboardInterrupt ({limit})",
        "... and later cells not run"]
