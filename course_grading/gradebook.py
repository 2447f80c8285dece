"""The course's nbgrader gradebook, wherever ``nbgrader_config.py`` puts it (instructors).

``CourseDirectory.db_url`` names it (SQLite for one instructor, PostgreSQL for a class with
several graders); without it, nbgrader's default ``gradebook.db`` in the course root.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from course_grading.course import GradingError, load_config

if TYPE_CHECKING:
    from nbgrader.api import Gradebook

__all__ = ["check_reachable", "db_url", "graded_students", "holds_assignment",
           "keep_manual_grades", "manual_overrides", "open_gradebook", "record_zero"]


def db_url(course_root: Path) -> str:
    """The gradebook's database URL for the course in ``course_root``."""
    configured = load_config(course_root).CourseDirectory.get("db_url")
    return configured or f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"


def check_reachable(course_root: Path) -> None:
    """Open a connection to the gradebook's database and close it; a GradingError of one line
    (the URL without its password, the driver's reason, what to check) when that fails."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    url = db_url(course_root)
    where = "c.CourseDirectory.db_url in nbgrader_config.py"
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return  # a file nbgrader makes when it is missing: connecting here would leave an
            # empty one that nbgrader then takes for a gradebook
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError) as error:
        raise GradingError(f"{where} is not a database URL this environment can open "
                           f"({type(error).__name__}: {error})") from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        reason = " ".join(str(error.orig).split()) if error.orig is not None else str(error)
        raise GradingError(
            f"the gradebook {shown} cannot be opened: {reason} - check that its database server "
            f"runs and accepts connections, and the host, port, user, password (PGPASSWORD or "
            f"~/.pgpass) and database name of {where}") from None
    finally:
        engine.dispose()


def open_gradebook(course_root: Path) -> Gradebook:
    """nbgrader's ``Gradebook`` on the course's database (use it as a context manager)."""
    from nbgrader.api import Gradebook

    return Gradebook(db_url(course_root))


def record_zero(course_root: Path, assignment: str, student: str) -> None:
    """Give every automatic grade of the submission 0 (manual grades are kept)."""
    from sqlalchemy.exc import SAWarning

    with open_gradebook(course_root) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use, harmless
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gradebook.db.commit()


def holds_assignment(course_root: Path, assignment: str) -> bool:
    """Whether the gradebook has ``assignment`` (its grade cells recorded)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course_root) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            return False
        return True


def graded_students(course_root: Path, assignment: str) -> set[str]:
    """The students whose submission of ``assignment`` the gradebook holds."""
    with open_gradebook(course_root) as gradebook:
        return {submission.student.id
                for submission in gradebook.assignment_submissions(assignment)}


def keep_manual_grades(course_root: Path, assignment: str, student: str, review: bool) -> bool:
    """After a re-grade: the manual grades stay, flagged for review only if ``review``; True if
    the submission has any."""
    with open_gradebook(course_root) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        manual = [grade for notebook in submission.notebooks for grade in notebook.grades
                  if grade.manual_score is not None]
        for grade in manual:
            grade.needs_manual_grade = review
        gradebook.db.commit()
    return bool(manual)


def manual_overrides(submission) -> tuple[str, ...]:
    """The grade ids of a gradebook submission whose score an instructor set by hand."""
    return tuple(sorted(grade.name for notebook in submission.notebooks
                        for grade in notebook.grades if grade.manual_score is not None))
