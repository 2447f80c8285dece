"""Pre-flight checks and repairs of a submission (course_grading.preflight), without nbgrader."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from course_grading import preflight
from tests.support import REPO

SOURCE = REPO / "solutions" / "01-concepts" / "01-concepts.ipynb"
NAME = SOURCE.name


def student_copy() -> nbformat.NotebookNode:
    return nbformat.read(REPO / "notebooks" / "01-concepts" / NAME, as_version=4)


def grade_ids(notebook: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
            if "nbgrader" in c.metadata]


def prepare(tmp_path: Path, files: dict[str, str | nbformat.NotebookNode]):
    folder = tmp_path / "submitted"
    folder.mkdir()
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            nbformat.write(content, path)
    return preflight.prepare(folder, [SOURCE], tmp_path / "staged")


def test_a_clean_submission_is_staged_unchanged(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: student_copy()})
    assert check.gradeable and check.notes == []
    staged = nbformat.read(tmp_path / "staged" / NAME, as_version=4)
    assert staged.cells == student_copy().cells


def test_only_the_notebook_and_timestamp_are_staged(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: student_copy(), "numpy/__init__.py": "x = 1\n",
                               "timestamp.txt": "2026-01-05 10:00:00.000000 UTC"})
    assert check.gradeable
    assert sorted(p.name for p in (tmp_path / "staged").iterdir()) == [NAME, "timestamp.txt"]


@pytest.mark.parametrize(("files", "reason"), [
    ({}, "no notebook submitted"),
    ({"notes.txt": "hello"}, "no notebook submitted"),
    ({NAME: '{"cells": ['}, "not valid JSON"),
    ({NAME: '{"cells": 3}'}, "not a valid notebook"),
    ({"a.ipynb": "{}", "b.ipynb": "{}"}, "missing"),
])
def test_ungradeable_submissions_are_rejected_with_a_reason(tmp_path, files, reason) -> None:
    check = prepare(tmp_path, files)
    assert not check.gradeable
    assert reason in "; ".join(check.notes)


def test_a_single_renamed_notebook_is_graded_under_the_expected_name(tmp_path: Path) -> None:
    check = prepare(tmp_path, {"01-concepts (1).ipynb": student_copy()})
    assert check.gradeable and "renamed" in check.notes[0]
    assert (tmp_path / "staged" / NAME).is_file()


def test_a_huge_notebook_is_rejected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(preflight, "MAX_NOTEBOOK_BYTES", 1000)
    check = prepare(tmp_path, {NAME: student_copy()})
    assert not check.gradeable and "MiB" in check.notes[0]


def test_a_duplicated_grade_id_keeps_the_first_cell(tmp_path: Path) -> None:
    notebook = student_copy()
    index = grade_ids(notebook).index("test-part-3")
    notebook.cells.insert(index + 1, copy.deepcopy(notebook.cells[index]))
    check = prepare(tmp_path, {NAME: notebook})
    staged = nbformat.read(tmp_path / "staged" / NAME, as_version=4)
    assert grade_ids(staged) == grade_ids(student_copy())
    assert "nbgrader" not in staged.cells[index + 1].metadata
    assert any("used twice" in note for note in check.notes)


def test_changed_points_unknown_ids_and_cell_types_are_repaired(tmp_path: Path) -> None:
    notebook = student_copy()
    test_cell = notebook.cells[grade_ids(notebook).index("test-part-1")]
    test_cell.metadata["nbgrader"]["points"] = 100
    test_cell.update(cell_type="markdown")
    del test_cell["outputs"], test_cell["execution_count"]
    bonus = nbformat.v4.new_code_cell("print(1)", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus", "points": 50, "solution": False, "locked": True}})
    del bonus["id"]
    notebook.cells.append(bonus)
    check = prepare(tmp_path, {NAME: notebook})
    staged = nbformat.read(tmp_path / "staged" / NAME, as_version=4)
    cell = staged.cells[grade_ids(student_copy()).index("test-part-1")]
    assert cell.cell_type == "code" and cell.metadata["nbgrader"]["points"] == 2
    assert "nbgrader" not in staged.cells[-1].metadata
    assert len(check.notes) == 3


def test_a_deleted_grade_cell_is_noted(tmp_path: Path) -> None:
    notebook = student_copy()
    del notebook.cells[grade_ids(notebook).index("test-part-2")]
    check = prepare(tmp_path, {NAME: notebook})
    assert check.gradeable and "test-part-2" in check.notes[-1]


@pytest.mark.parametrize(("text", "kept"), [
    ("2026-01-05 10:00:00.000000 UTC", True),
    ("1970-01-01 00:00:00.000000 UTC", False),
    ("2999-01-01 00:00:00.000000 UTC", False),
    ("yesterday, honestly", False),
])
def test_implausible_timestamps_are_dropped(tmp_path: Path, text: str, kept: bool) -> None:
    check = prepare(tmp_path, {NAME: student_copy(), "timestamp.txt": text})
    assert (tmp_path / "staged" / "timestamp.txt").exists() == kept
    assert check.gradeable and (check.notes == []) == kept
