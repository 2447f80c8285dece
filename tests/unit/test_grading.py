"""Fast tests of course_utils.grading that need no nbgrader run (the round trip is in
tests/grading)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils import grading


def course(tmp_path: Path, *assignments: str) -> Path:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    for name in assignments:
        (tmp_path / "solutions" / name).mkdir(parents=True)
    return tmp_path


def test_assignments_lists_solution_folders_in_order(tmp_path: Path) -> None:
    root = course(tmp_path, "02-b", "01-a")
    (root / "solutions" / ".ipynb_checkpoints").mkdir()
    assert grading.assignments(root) == ["01-a", "02-b"]


def test_autograde_with_no_submissions_returns_nothing_and_writes_no_gradebook(
    tmp_path: Path,
) -> None:
    root = course(tmp_path, "01-a")
    assert grading.autograde(root) == []
    assert not (root / "gradebook.db").exists()


def test_release_of_an_unknown_assignment_is_a_clear_error(tmp_path: Path) -> None:
    root = course(tmp_path, "01-a")
    with pytest.raises(grading.GradingError, match="no assignment 'missing'"):
        grading.release(root, ["missing"])


@pytest.mark.parametrize("order", ["options first", "names first"])
def test_cli_accepts_assignment_names_before_or_after_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    calls = []
    monkeypatch.setattr(grading, "autograde",
                        lambda root, names, limits=None: calls.append(names) or [])
    options = ["--course-root", str(tmp_path)]
    argv = ["grade", *options, "01-a"] if order == "options first" else ["grade", "01-a", *options]
    assert grading.main(argv) == 0
    assert calls == [["01-a"]]


def test_cli_reports_an_error_without_a_traceback(tmp_path: Path, capsys) -> None:
    root = course(tmp_path, "01-a")
    assert grading.main(["release", "missing", "--course-root", str(root)]) == 1
    assert "error: no assignment 'missing'" in capsys.readouterr().err
