"""The instructors' command line, python -m course_grading (no nbgrader run)."""

from __future__ import annotations

from pathlib import Path

import pytest

import course_grading.__main__ as cli


@pytest.mark.parametrize("order", ["options first", "names first"])
def test_cli_accepts_assignment_names_before_or_after_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    calls = []
    monkeypatch.setattr(cli, "autograde",
                        lambda root, names, limits=None: calls.append(names) or [])
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
