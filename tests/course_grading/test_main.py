"""The instructors' command line, python -m course_grading (no nbgrader run)."""

from __future__ import annotations

from pathlib import Path

import pytest

import course_grading.__main__ as cli
from course_grading.autograde import Score
from course_grading.hub import free_port


@pytest.mark.parametrize("order", ["options first", "names first"])
def test_cli_accepts_assignment_names_before_or_after_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    calls = []
    monkeypatch.setattr(cli, "autograde",
                        lambda root, names, limits=None, **options: calls.append(names) or [])
    options = ["--course-root", str(tmp_path)]
    argv = ["grade", *options, "01-a"] if order == "options first" else ["grade", "01-a", *options]
    assert cli.main(argv) == 0
    assert calls == [["01-a"]]


def test_cli_reports_an_error_without_a_traceback(tmp_path: Path, capsys) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.source_directory = "solutions"\n')
    (tmp_path / "solutions" / "01-a").mkdir(parents=True)
    assert cli.main(["release", "missing", "--course-root", str(tmp_path)]) == 1
    assert "error: no assignment 'missing'" in capsys.readouterr().err


def test_cli_says_when_there_is_nothing_to_grade(tmp_path: Path, capsys) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert cli.main(["grade", "--course-root", str(tmp_path)]) == 0
    assert "No submissions found" in capsys.readouterr().out


def test_grade_passes_students_jobs_and_regrade_on(tmp_path: Path, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(cli, "autograde",
                        lambda root, names, limits=None, **options: calls.append(options) or [])
    argv = ["grade", "01-a", "--student", "ada", "--student", "bob", "--jobs", "3", "--regrade",
            "--course-root", str(tmp_path)]
    assert cli.main(argv) == 0
    (options,) = calls
    assert (options["only"], options["jobs"], options["regrade"]) == (["ada", "bob"], 3, True)
    assert cli.main(["grade", "--course-root", str(tmp_path)]) == 0
    assert (calls[1]["only"], calls[1]["jobs"], calls[1]["regrade"]) == (None, 1, False)


def test_score_table_shows_manual_grades_and_what_was_not_graded_again(
        tmp_path: Path, monkeypatch, capsys) -> None:
    scores = [Score("ada", "01-a", 9.5, 10, manual=("test-part-2",), graded_now=False),
              Score("bob", "01-a", 0, 10, "rejected", "no notebook submitted")]
    monkeypatch.setattr(cli, "autograde", lambda *args, **options: scores)
    assert cli.main(["grade", "--course-root", str(tmp_path)]) == 0
    ada, bob = capsys.readouterr().out.splitlines()
    assert ada == "01-a  ada  9.5 / 10  (set by hand: test-part-2)  (unchanged, not graded again)"
    assert bob == "01-a  bob  0 / 10  [rejected] no notebook submitted"


def test_score_table_shows_submissions_to_review_with_their_points(
        tmp_path: Path, monkeypatch, capsys) -> None:
    scores = [Score("ada", "01-a", 10, 10, "review", "cell 4, line 1: calls exec()"),
              Score("bob", "01-a", 0, 10, "tampering", "cell 4, line 1: rebinds 'np'")]
    monkeypatch.setattr(cli, "autograde", lambda *args, **options: scores)
    assert cli.main(["grade", "--course-root", str(tmp_path)]) == 0
    ada, bob, footer = capsys.readouterr().out.splitlines()
    assert ada == "01-a  ada  10 / 10  [review] cell 4, line 1: calls exec()"
    assert bob == "01-a  bob  0 / 10  [tampering] cell 4, line 1: rebinds 'np'"
    assert footer.startswith("1 submission(s) graded but flagged for review")


@pytest.mark.parametrize(("status", "code"), [("graded", 0), ("review", 0), ("tampering", 1),
                                              ("failed", 1)])
def test_check_succeeds_for_a_graded_notebook_even_if_flagged_for_review(
        tmp_path: Path, monkeypatch, capsys, status: str, code: int) -> None:
    notebook = tmp_path / "01-a.ipynb"
    notebook.write_text("{}")
    monkeypatch.setattr(cli, "check_notebook", lambda *args: (
        Score("you", "01-a", 10 if code == 0 else 0, 10, status), []))
    assert cli.main(["check", str(notebook), "--course-root", str(tmp_path)]) == code


@pytest.mark.parametrize("command", ["grade", "export"])
def test_an_unreachable_gradebook_is_one_line_of_error(tmp_path: Path, capsys,
                                                       command: str) -> None:
    port = free_port()
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = "
        f"'postgresql+psycopg://teacher:s3cret@127.0.0.1:{port}/course'\n")
    (tmp_path / "submitted" / "ada" / "01-concepts").mkdir(parents=True)
    (tmp_path / "submitted" / "ada" / "01-concepts" / "01-concepts.ipynb").write_text("{}")
    assert cli.main([command, "--course-root", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: the gradebook postgresql+psycopg://teacher:***@")
    assert error.count("\n") == 1 and "s3cret" not in error
