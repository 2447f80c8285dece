"""The first cell of every lesson and exercise: on Google Colab, install the course's helpers.

The cell is generated from the book's one repository setting (``repository.url`` and ``branch``
in ``_config.yml``, which also drives the launch buttons); :func:`write_setup_cell` puts it first
in a notebook, or brings an existing one up to date (``make colab-cells``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml

__all__ = ["BOOK_CONFIG", "SETUP_CELL_ID", "Repository", "has_setup_cell", "repository",
           "setup_cell", "setup_source", "write_setup_cell"]

BOOK_CONFIG = Path(__file__).resolve().parent.parent / "_config.yml"
SETUP_CELL_ID = "colab-setup"
# hidden from the book (its readers run nothing); locked in exercises, so autograding restores it
LESSON_METADATA = {"tags": ["remove-cell"]}
EXERCISE_METADATA = {
    "tags": ["remove-cell"],
    "nbgrader": {"grade": False, "grade_id": SETUP_CELL_ID, "locked": True,
                 "schema_version": 3, "solution": False, "task": False},
}


class Repository(NamedTuple):
    """The course's public git repository."""

    url: str
    branch: str


def repository(config: Path = BOOK_CONFIG) -> Repository:
    """The repository named in the book's ``_config.yml``; a clear error when it names none."""
    settings = (yaml.safe_load(config.read_text()) or {}).get("repository") or {}
    url = str(settings.get("url") or "").rstrip("/")
    if not url.startswith("https://"):
        raise ValueError(f"{config}: repository.url must be the course's https:// git URL, "
                         f"not {url!r}")
    return Repository(url, str(settings.get("branch") or "main"))


def setup_source(repo: Repository) -> str:
    """The cell's code: on Colab, and only while course_utils is missing, pip-install it."""
    return f'''# Google Colab only: install the course's helpers (course_utils) from its repository.
# Colab already has TensorFlow, Keras and the rest; Fashion-MNIST is downloaded on first use.
# Anywhere else this cell does nothing: `make setup` (or conda) installed everything.
import importlib.util
import subprocess
import sys

COURSE_REPOSITORY = "{repo.url}"
if "google.colab" in sys.modules and importlib.util.find_spec("course_utils") is None:
    print(f"Running on Google Colab: installing course_utils from {{COURSE_REPOSITORY}} ...")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-requires-python",
         f"course_utils @ git+{{COURSE_REPOSITORY}}@{repo.branch}"],
        check=True,
    )
    importlib.invalidate_caches()
    print("Installed. The first cell that loads Fashion-MNIST downloads it, once.")'''


def setup_cell(repo: Repository, exercise: bool) -> nbformat.NotebookNode:
    """The whole cell, with the metadata a lesson or an nbgrader exercise needs."""
    metadata = EXERCISE_METADATA if exercise else LESSON_METADATA
    return nbformat.v4.new_code_cell(setup_source(repo), metadata=copy.deepcopy(metadata))


def has_setup_cell(notebook: nbformat.NotebookNode) -> bool:
    """Whether the notebook's first cell is this module's set-up cell (any repository)."""
    return bool(notebook.cells) and _is_setup_cell(notebook.cells[0])


def write_setup_cell(path: Path, repo: Repository) -> bool:
    """Put the set-up cell first in a lesson or exercise (or update it); True if it changed."""
    notebook = nbformat.read(path, as_version=4)
    exercise = any("nbgrader" in each.metadata for each in notebook.cells)
    cell = setup_cell(repo, exercise)
    if has_setup_cell(notebook):
        old = notebook.cells[0]
        if old.source == cell.source and old.metadata == cell.metadata:
            return False
        cell.execution_count, cell.outputs = old.get("execution_count"), old.get("outputs", [])
        notebook.cells[0] = cell
    else:
        notebook.cells.insert(0, cell)
    for each in notebook.cells:
        each.pop("id", None)
    nbformat.write(notebook, path)
    return True


def _is_setup_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and cell.source.startswith("# Google Colab only:")

