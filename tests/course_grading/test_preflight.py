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


def source_copy() -> nbformat.NotebookNode:
    return nbformat.read(SOURCE, as_version=4)


def staged_copy(tmp_path: Path) -> nbformat.NotebookNode:
    return nbformat.read(tmp_path / "staged" / NAME, as_version=4)


def test_a_clean_submission_is_staged_with_the_assignments_metadata(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: student_copy()})
    assert check.gradeable and check.notes == []
    staged = staged_copy(tmp_path)
    assert [(c.cell_type, c.source) for c in staged.cells] == \
        [(c.cell_type, c.source) for c in student_copy().cells]
    assert [c.metadata for c in staged.cells] == [c.metadata for c in source_copy().cells]
    assert staged.metadata == source_copy().metadata


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


DEEP = 100_000


def deeply_nested_json() -> str:
    """``submission-deeply-nested-json``: 200 KB whose cells are a list 100,000 levels deep."""
    return '{"cells": ' + "[" * DEEP + "]" * DEEP + "}"


def deeply_nested_metadata() -> str:
    """The student copy with a cell's metadata holding a list 100,000 levels deep."""
    text = nbformat.writes(student_copy())
    return text.replace('"metadata": {', '"metadata": {"x": ' + "[" * DEEP + "]" * DEEP + ", ", 1)


@pytest.mark.parametrize("content", [deeply_nested_json(), deeply_nested_metadata()],
                         ids=["submission-deeply-nested-json",
                              "submission-deeply-nested-cell-metadata"])
def test_deeply_nested_json_is_rejected_with_a_reason_not_an_error(tmp_path, content) -> None:
    check = prepare(tmp_path, {NAME: content})  # json.loads raises RecursionError on these
    assert not check.gradeable
    assert check.notes == [f"{NAME} is nested too deeply to read"]


@pytest.mark.parametrize(("where", "error", "reason"), [
    ("json.loads", MemoryError(), "too large or nested too deeply to read"),
    ("nbformat.reads", RecursionError("maximum recursion depth"), "nested too deeply to read"),
    ("nbformat.reads", KeyError("cells"), "not a valid notebook ('cells')"),
    ("nbformat.validate", TypeError("odd"), "not a valid notebook (odd)"),
])
def test_any_failure_to_read_rejects_the_submission(tmp_path, monkeypatch, where, error,
                                                    reason) -> None:
    path = tmp_path / NAME
    nbformat.write(student_copy(), path)
    module, function = where.split(".")

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(preflight.json if module == "json" else preflight.nbformat, function, fail)
    assert preflight._read(path) == f"{NAME} is {reason}"


def test_a_single_renamed_notebook_is_graded_under_the_expected_name(tmp_path: Path) -> None:
    check = prepare(tmp_path, {"01-concepts (1).ipynb": student_copy()})
    assert check.gradeable and "renamed" in check.notes[0]
    assert (tmp_path / "staged" / NAME).is_file()


def test_a_huge_notebook_is_rejected(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(preflight, "MAX_NOTEBOOK_BYTES", 1000)
    check = prepare(tmp_path, {NAME: student_copy()})
    assert not check.gradeable and "MiB" in check.notes[0]


def test_a_notebook_of_too_many_cells_is_rejected_unrun(tmp_path: Path) -> None:
    (tmp_path / "over").mkdir()
    (tmp_path / "at").mkdir()
    notebook = student_copy()
    notebook.cells += [nbformat.v4.new_code_cell("pass", id=f"extra-{i}")
                       for i in range(preflight.MAX_CELLS + 1 - len(notebook.cells))]
    check = prepare(tmp_path / "over", {NAME: notebook})
    assert not check.gradeable
    assert check.notes == [f"{NAME} has {preflight.MAX_CELLS + 1:,} cells "
                           f"(limit {preflight.MAX_CELLS:,})"]
    notebook.cells.pop()
    assert prepare(tmp_path / "at", {NAME: notebook}).gradeable


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


# --- metadata: rebuilt from the assignment's source, whatever the submission set


def grade_cell_indices(notebook: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade")]


def submission_skip_execution_tags() -> nbformat.NotebookNode:
    """The untouched student copy with every test cell tagged skip-execution (10/10 before)."""
    notebook = student_copy()
    for index in grade_cell_indices(notebook):
        notebook.cells[index].metadata["tags"] = ["skip-execution"]
        notebook.cells[index].outputs = [nbformat.v4.new_output("stream", text="ok\n")]
    return notebook


def submission_raises_exception_tags() -> nbformat.NotebookNode:
    notebook = student_copy()
    for cell in answer_cells(notebook):
        cell.metadata["tags"] = ["raises-exception", "remove-cell"]
    return notebook


def answer_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]


def test_submission_skip_execution_tags_are_dropped_with_a_note(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: submission_skip_execution_tags()})
    staged = staged_copy(tmp_path)
    for index in grade_cell_indices(staged):
        assert "tags" not in staged.cells[index].metadata
        assert staged.cells[index].metadata == source_copy().cells[index].metadata
        assert staged.cells[index].outputs == []
    assert check.notes == [f"cell {i}: tags ignored: 'skip-execution'"
                           for i in grade_cell_indices(staged)]


def test_submission_raises_exception_tags_are_dropped(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: submission_raises_exception_tags()})
    assert all("tags" not in c.metadata for c in answer_cells(staged_copy(tmp_path)))
    assert len(check.notes) == len(answer_cells(student_copy()))
    assert all(note.endswith("tags ignored: 'raises-exception', 'remove-cell'")
               for note in check.notes)


def test_a_tag_of_the_assignment_is_kept(tmp_path: Path) -> None:
    notebook = student_copy()
    del notebook.cells[0].metadata["tags"]  # the Colab set-up cell's remove-cell
    check = prepare(tmp_path, {NAME: notebook})
    assert staged_copy(tmp_path).cells[0].metadata["tags"] == ["remove-cell"]
    assert check.notes == []


def submission_jupyter_metadata() -> nbformat.NotebookNode:
    """What Jupyter itself adds while a learner works: harmless, dropped without a note."""
    notebook = student_copy()
    for cell in notebook.cells:
        cell.metadata.update(collapsed=True, scrolled=True, jupyter={"source_hidden": True},
                             editable=True, deletable=True, execution={
                                 "iopub.status.busy": "2026-01-05T10:00:00.000Z"})
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.2",
                                          "mimetype": "text/x-python"}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    notebook.metadata["kernelspec"] = {"name": "my-venv", "display_name": "Mine",
                                       "language": "python"}
    return notebook


def test_submission_jupyter_metadata_is_dropped_without_a_note(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: submission_jupyter_metadata()})
    staged = staged_copy(tmp_path)
    assert check.notes == []
    assert [c.metadata for c in staged.cells] == [c.metadata for c in source_copy().cells]
    assert staged.metadata == source_copy().metadata


def submission_extra_cells_with_metadata() -> nbformat.NotebookNode:
    notebook = student_copy()
    mine = nbformat.v4.new_code_cell("print('scratch')", metadata={
        "tags": ["skip-execution"], "nbgrader": {"grade": True, "points": 50},
        "execution": {"shell.execute_reply": "2026-01-05T10:00:00.000Z"}})
    notebook.cells.insert(3, mine)
    notebook.cells.append(nbformat.v4.new_markdown_cell("notes", metadata={"tags": ["x"]}))
    return notebook


def test_submission_extra_cells_get_empty_metadata(tmp_path: Path) -> None:
    check = prepare(tmp_path, {NAME: submission_extra_cells_with_metadata()})
    staged = staged_copy(tmp_path)
    assert staged.cells[3].metadata == {} and staged.cells[-1].metadata == {}
    assert check.notes == ["cell 3: tags ignored: 'skip-execution'",
                           f"cell {len(staged.cells) - 1}: tags ignored: 'x'"]


def test_submission_future_schema_gets_the_assignments_block(tmp_path: Path) -> None:
    notebook = student_copy()
    notebook.cells[2].metadata["nbgrader"]["schema_version"] = 99  # the imports cell
    check = prepare(tmp_path, {NAME: notebook})
    assert staged_copy(tmp_path).cells[2].metadata == source_copy().cells[2].metadata
    assert check.notes == ["cell 2: nbgrader metadata of 'imports' restored"]


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("grade_id", [["test-part-1"], 7, {"a": 1}, "x" * 500, nested(300)],
                         ids=["list", "int", "dict", "very-long", "deeply-nested"])
def test_submission_odd_grade_id_is_an_ordinary_cell(tmp_path: Path, grade_id) -> None:
    notebook = student_copy()
    notebook.cells.append(nbformat.v4.new_code_cell("1", metadata={"nbgrader": {
        "grade": True, "grade_id": grade_id, "points": 5}}))
    check = prepare(tmp_path, {NAME: notebook})
    assert staged_copy(tmp_path).cells[-1].metadata == {}
    assert len(check.notes) == 1 and "unknown grade_id" in check.notes[0]
    assert len(check.notes[0]) < 120


def test_submission_many_tags_are_noted_briefly(tmp_path: Path) -> None:
    notebook = student_copy()
    notebook.cells[1].metadata["tags"] = [f"tag-{i}" for i in range(8)]
    check = prepare(tmp_path, {NAME: notebook})
    assert check.notes == ["cell 1: tags ignored: 'tag-0', 'tag-1', 'tag-2', 'tag-3', 'tag-4', "
                           "and 3 more"]


def test_submission_stored_outputs_are_dropped(tmp_path: Path) -> None:
    notebook = student_copy()
    index = grade_cell_indices(notebook)[0]
    notebook.cells[index].execution_count = 7
    notebook.cells[index].outputs = [nbformat.v4.new_output(
        "execute_result", data={"text/plain": "2"}, execution_count=7)]
    check = prepare(tmp_path, {NAME: notebook})
    cell = staged_copy(tmp_path).cells[index]
    assert (cell.outputs, cell.execution_count, check.notes) == ([], None, [])


def test_a_grade_id_too_deep_to_print_is_named_by_its_type() -> None:
    assert preflight._short(nested(5000)) == "<list nested too deeply>"
