"""The Colab set-up cell: what it does on a simulated Colab and elsewhere, and how it is written."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from course_authoring.colab import (
    SETUP_CELL_ID,
    Repository,
    has_setup_cell,
    repository,
    setup_source,
    write_setup_cell,
)

REPO = Repository("https://example.org/course/nn.git", "term-2")


@pytest.fixture
def pip_calls(monkeypatch) -> list[list[str]]:
    """subprocess.run recorded instead of run: nothing is installed."""
    calls: list[list[str]] = []

    def run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def on_colab(monkeypatch, course_utils_installed: bool) -> None:
    """What a Colab kernel looks like to the cell: google.colab imported, course_utils maybe not."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "course_utils" and not course_utils_installed:
            return None
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def run_cell(source: str) -> None:
    exec(compile(source, "<colab-setup>", "exec"), {})


def test_on_colab_without_course_utils_it_installs_it_from_the_repository(
        monkeypatch, pip_calls, capsys):
    on_colab(monkeypatch, course_utils_installed=False)
    run_cell(setup_source(REPO))
    assert len(pip_calls) == 1
    command = pip_calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == "course_utils @ git+https://example.org/course/nn.git@term-2"
    assert "--no-deps" in command  # Colab's own TensorFlow and Keras stay
    printed = capsys.readouterr().out
    assert "Running on Google Colab" in printed and REPO.url in printed
    assert "Fashion-MNIST" in printed


def test_on_colab_with_course_utils_it_does_nothing(monkeypatch, pip_calls, capsys):
    on_colab(monkeypatch, course_utils_installed=True)
    run_cell(setup_source(REPO))
    assert pip_calls == [] and capsys.readouterr().out == ""


def test_elsewhere_it_does_nothing_even_without_course_utils(monkeypatch, pip_calls, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    run_cell(setup_source(REPO))
    assert pip_calls == [] and capsys.readouterr().out == ""


def test_a_failed_install_stops_the_notebook_with_pips_error(monkeypatch):
    on_colab(monkeypatch, course_utils_installed=False)

    def failing(command, **kwargs):
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(subprocess.CalledProcessError):
        run_cell(setup_source(REPO))


def test_repository_is_read_from_the_book_config(tmp_path: Path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/a/b/\n  branch: dev\n")
    assert repository(config) == Repository("https://example.org/a/b", "dev")
    config.write_text("repository:\n  url: https://example.org/a/b\n")
    assert repository(config).branch == "main"


@pytest.mark.parametrize("text", ["title: x\n", "repository:\n  url: ''\n",
                                  "repository:\n  url: git@example.org:a/b\n"])
def test_a_config_without_an_https_repository_is_a_clear_error(tmp_path: Path, text: str):
    config = tmp_path / "_config.yml"
    config.write_text(text)
    with pytest.raises(ValueError, match="repository.url"):
        repository(config)


def notebook_file(tmp_path: Path, exercise: bool) -> Path:
    cell = nbformat.v4.new_code_cell("import numpy as np", execution_count=1)
    if exercise:
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": "imports", "locked": True,
                                     "schema_version": 3, "solution": False, "task": False}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    notebook.nbformat_minor = 4
    for each in notebook.cells:
        each.pop("id")
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_lessons_cell_goes_first_hidden_from_the_book(tmp_path: Path):
    path = notebook_file(tmp_path, exercise=False)
    assert write_setup_cell(path, REPO)
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert has_setup_cell(notebook) and first.source == setup_source(REPO)
    assert first.metadata == {"tags": ["remove-cell"]}
    assert [c.cell_type for c in notebook.cells] == ["code", "markdown", "code"]


def test_an_exercises_cell_is_locked_for_nbgrader(tmp_path: Path):
    path = notebook_file(tmp_path, exercise=True)
    write_setup_cell(path, REPO)
    nbgrader = nbformat.read(path, as_version=4).cells[0].metadata["nbgrader"]
    assert nbgrader["locked"] and not nbgrader["grade"] and not nbgrader["solution"]
    assert nbgrader["grade_id"] == SETUP_CELL_ID


def test_writing_again_changes_nothing_and_a_new_repository_replaces_the_cell(tmp_path: Path):
    path = notebook_file(tmp_path, exercise=False)
    write_setup_cell(path, REPO)
    before = path.read_text()
    assert not write_setup_cell(path, REPO) and path.read_text() == before
    moved = Repository("https://example.org/fork/nn", "main")
    assert write_setup_cell(path, moved)
    notebook = nbformat.read(path, as_version=4)
    assert len(notebook.cells) == 3 and notebook.cells[0].source == setup_source(moved)
    nbformat.validate(notebook)
