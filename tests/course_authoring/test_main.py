"""The maintainers' command line, python -m course_authoring (check only: execute runs kernels)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from course_authoring.__main__ import main


def lesson(tmp_path: Path, execution_count: int) -> Path:
    """A one-cell lesson whose cell ran as ``execution_count``."""
    path = tmp_path / "lesson.ipynb"
    notebook = new_notebook(cells=[new_code_cell("1 + 1", execution_count=execution_count)])
    notebook.metadata["kernelspec"] = {"name": "python3"}
    nbformat.write(notebook, path)
    return path


def test_check_exits_1_and_names_each_problem(tmp_path: Path, capsys) -> None:
    path = lesson(tmp_path, execution_count=2)
    assert main(["check", str(path)]) == 1
    assert f"{path}: execution counts are not 1..1 in order" in capsys.readouterr().out


def test_check_exits_0_on_a_clean_lesson(tmp_path: Path, capsys) -> None:
    assert main(["check", str(lesson(tmp_path, execution_count=1))]) == 0
    assert capsys.readouterr().out == ""
