"""Helpers shared by the test folders: the repository root (computed once), scratch courses,
the book's pages, and Jupyter folders of a test's own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", flags=re.MULTILINE)


def make_course(root: Path, db_url: str | None = None) -> Path:
    """A fresh nbgrader course root holding the repository's config and solutions; its gradebook
    is ``db_url`` when given (a PostgreSQL database), else SQLite's gradebook.db in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    if db_url is not None:
        with open(root / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    shutil.copytree(REPO / "solutions", root / "solutions")
    return root


def read_notebook(folder: str, assignment: str) -> nbformat.NotebookNode:
    """``folder``/<assignment>/<assignment>.ipynb of the repository (solutions or notebooks)."""
    return nbformat.read(REPO / folder / assignment / f"{assignment}.ipynb", as_version=4)


def solution_source(assignment: str, grade_id: str) -> str:
    """The instructor's answer for ``grade_id``, with the solution markers removed."""
    for cell in read_notebook("solutions", assignment).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return SOLUTION_MARKERS.sub("", cell.source)
    raise KeyError(grade_id)


def answer_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The learner-editable cells of a notebook, by grade_id."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def submit(course: Path, student: str, assignment: str, notebook: nbformat.NotebookNode) -> None:
    """Place ``notebook`` where nbgrader expects a collected submission."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{assignment}.ipynb")


def toc_files() -> list[str]:
    """Every page of the table of contents, as paths without suffix (book/intro, ...)."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def own_jupyter_folders(root: Path) -> dict[str, str]:
    """Environment variables that give a Jupyter server or kernel started by a test folders
    under ``root`` for its user settings, workspaces, runtime files and IPython profile, so
    that nothing saved on the maintainer's machine (a JupyterLab workspace in ~/.jupyter)
    changes what the test sees. The environment's own kernels and extensions still count."""
    folders = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
               "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
               "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces", "IPYTHONDIR": "ipython"}
    for name in folders.values():
        (root / name).mkdir(parents=True, exist_ok=True)
    return {variable: str(root / name) for variable, name in folders.items()}
