"""Static checks of the instructor notebooks in solutions/ (fast: no kernel, no nbgrader run)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from tests.support import REPO

SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))
MIN_GRADED_PARTS = 4


def nbgrader_cells(path: Path) -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(path, as_version=4)
    return [c for c in notebook.cells if "nbgrader" in c.metadata]


def test_there_are_solutions() -> None:
    assert SOLUTIONS


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_notebook_lives_in_a_folder_of_its_own_name(path: Path) -> None:
    assert path.stem == path.parent.name


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_grade_ids_are_unique(path: Path) -> None:
    ids = Counter(c.metadata["nbgrader"]["grade_id"] for c in nbgrader_cells(path))
    assert [grade_id for grade_id, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_every_graded_cell_has_points_visible_and_hidden_tests(path: Path) -> None:
    graded = [c for c in nbgrader_cells(path) if c.metadata["nbgrader"]["grade"]]
    assert len(graded) >= MIN_GRADED_PARTS
    for cell in graded:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        assert cell.metadata["nbgrader"].get("points", 0) > 0, grade_id
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert "assert" in visible, f"{grade_id} has no visible test"
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{grade_id} has no hidden test"
        assert "### END HIDDEN TESTS" in cell.source, grade_id


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_every_answer_cell_has_a_marked_solution(path: Path) -> None:
    for cell in nbgrader_cells(path):
        if cell.metadata["nbgrader"]["solution"] and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_solutions_have_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def cell_asserts(source: str) -> list[ast.Assert]:
    return [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assert)]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_every_failing_check_says_what_is_wrong(path: Path) -> None:
    """Feedback hides a grade cell's traceback: an assert without a message would say nothing."""
    for cell in nbgrader_cells(path):
        if not cell.metadata["nbgrader"]["grade"]:
            continue
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        silent = [node.lineno for node in cell_asserts(cell.source) if node.msg is None]
        assert not silent, f"{grade_id}: assert without a message on line(s) {silent}"
        hidden = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1]
        # np.testing's messages print the expected values: the answer, for a hidden input
        assert "np.testing." not in hidden, f"{grade_id}: np.testing in the hidden tests"
