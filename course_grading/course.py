"""The nbgrader course folder: where solutions, student copies and submissions live (instructors).

The course root is the folder that holds ``nbgrader_config.py``. Its folders and its gradebook
are what that file configures (``CourseDirectory.*``), with nbgrader's defaults where it is
silent; nothing here assumes a path of its own.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

__all__ = ["CONFIG_FILE", "GradingError", "assignments", "folder", "load_config",
           "source_notebooks", "students", "submitted_assignments"]

CONFIG_FILE = "nbgrader_config.py"
# nbgrader's own defaults for the CourseDirectory folders a grading run uses
DEFAULT_FOLDERS = {"source": "source", "release": "release", "submitted": "submitted",
                   "autograded": "autograded", "feedback": "feedback"}


class GradingError(RuntimeError):
    """A grading step failed in a way that leaves no usable result."""


def load_config(course_root: Path) -> Config:
    """The course's ``nbgrader_config.py`` as a traitlets ``Config`` (empty when there is none)."""
    from traitlets.config.loader import PyFileConfigLoader

    if not (Path(course_root) / CONFIG_FILE).is_file():
        return Config()
    return PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config()


def folder(course_root: Path, kind: str, config: Config | None = None) -> Path:
    """The course's ``source``, ``release``, ``submitted``, ``autograded`` or ``feedback``
    folder, as the config names it."""
    if kind not in DEFAULT_FOLDERS:
        raise ValueError(f"kind must be one of {sorted(DEFAULT_FOLDERS)}, got {kind!r}")
    config = load_config(course_root) if config is None else config
    name = config.CourseDirectory.get(f"{kind}_directory", DEFAULT_FOLDERS[kind])
    return Path(course_root) / name


def assignments(course_root: Path) -> list[str]:
    """Names of the assignments in the source folder (``solutions/``), in order."""
    source = folder(course_root, "source")
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def source_notebooks(course_root: Path, assignment: str) -> list[Path]:
    """The notebooks of ``assignment`` in the source folder, in order."""
    return sorted((folder(course_root, "source") / assignment).glob("*.ipynb"))


def submitted_assignments(course_root: Path) -> list[str]:
    """Names of the assignments that someone submitted (``submitted/<student>/<assignment>/``)."""
    submitted = folder(course_root, "submitted")
    if not submitted.is_dir():
        return []
    return sorted({p.name for student in submitted.iterdir() if student.is_dir()
                   for p in student.iterdir() if p.is_dir()})


def students(course_root: Path, assignment: str) -> list[str]:
    """The students who submitted ``assignment``, in order."""
    submitted = folder(course_root, "submitted")
    if not submitted.is_dir():
        return []
    return sorted(s.name for s in submitted.iterdir() if (s / assignment).is_dir())
