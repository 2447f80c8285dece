"""The gradebook's grades as one CSV file, in a folder git ignores (instructors, ``make export``).

nbgrader's own ``nbgrader export`` writes ``grades.csv`` into the course root, one ``git add -A``
away from a commit; :func:`export_grades` writes it to ``exports/`` instead (see .gitignore).
"""

from __future__ import annotations

from pathlib import Path

from course_grading.gradebook import check_reachable
from course_grading.nbgrader_call import NbgraderRunner

__all__ = ["EXPORTS_FOLDER", "export_grades"]

EXPORTS_FOLDER = "exports"


def export_grades(course_root: Path) -> Path:
    """Write every grade of the course's gradebook to ``exports/grades.csv``; return its path."""
    course_root = Path(course_root).resolve()
    target = course_root / EXPORTS_FOLDER / "grades.csv"
    check_reachable(course_root)
    target.parent.mkdir(exist_ok=True)
    with NbgraderRunner() as nbgrader:
        nbgrader.run(course_root, "export", f"--to={target}")
    return target
