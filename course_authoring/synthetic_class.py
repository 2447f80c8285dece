"""A synthetic class for the grading benchmarks: every student hands in an exercise's solution."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["make_class"]


def make_class(course: Path, root: Path, assignment: str, students: int,
               config: str | None = None) -> Path:
    """A course at ``root`` with the assignment of the course at ``course`` and ``students``
    clean submissions of its solution; its ``nbgrader_config.py`` is ``config`` when given,
    else the course's own. Returns ``root``."""
    root.mkdir(parents=True)
    if config is None:
        shutil.copy2(course / "nbgrader_config.py", root / "nbgrader_config.py")
    else:
        (root / "nbgrader_config.py").write_text(config)
    shutil.copytree(course / "solutions" / assignment, root / "solutions" / assignment)
    notebook = f"{assignment}.ipynb"
    for index in range(students):
        folder = root / "submitted" / f"student-{index:02d}" / assignment
        folder.mkdir(parents=True)
        shutil.copy2(course / "solutions" / assignment / notebook, folder / notebook)
    return root
