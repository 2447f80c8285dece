"""The course's nbgrader gradebook, wherever ``nbgrader_config.py`` puts it (instructors).

``CourseDirectory.db_url`` names it (SQLite for one instructor, PostgreSQL for a class with
several graders); without it, nbgrader's default ``gradebook.db`` in the course root.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from course_grading.course import GradingError, load_config

if TYPE_CHECKING:
    from nbgrader.api import Gradebook

# a migration script's `revision = '…'` and `down_revision = None | '…' | ('…', '…')` lines
REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.*)$", re.MULTILINE)
QUOTED = re.compile(r"""['"]([^'"]+)['"]""")

__all__ = ["alembic_head", "check_reachable", "db_url", "graded_students", "holds_assignment",
           "keep_manual_grades", "manual_overrides", "name_schema_without_alembic",
           "open_gradebook", "record_zero"]


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

    name_schema_without_alembic()
    return Gradebook(db_url(course_root))


def alembic_head(versions: Path | None = None) -> str | None:
    """The newest revision of nbgrader's gradebook schema, read from its migration scripts in
    ``versions`` (nbgrader's own by default), as ``alembic heads`` names it; None if not one.

    The scripts are read as text, not parsed: CPython 3.11's parser is not safe to call from two
    threads at once, and the grading jobs parse submissions (course_grading.autograde)."""
    if versions is None:
        from nbgrader import dbutil

        versions = Path(dbutil.ALEMBIC_DIR) / "versions"
    revisions: dict[str, list[str]] = {}
    for script in sorted(versions.glob("*.py")):
        assigned = dict(REVISION_LINE.findall(script.read_text()))
        if "revision" not in assigned or "down_revision" not in assigned:
            return None
        names = QUOTED.findall(assigned["revision"])
        if len(names) != 1:
            return None
        revisions[names[0]] = QUOTED.findall(assigned["down_revision"])  # [] for None
    parents = {parent for downs in revisions.values() for parent in downs}
    heads = [revision for revision in revisions if revision not in parents]
    return heads[0] if len(heads) == 1 else None


def name_schema_without_alembic() -> None:
    """Let nbgrader, in this process, name a new gradebook's schema revision without running
    ``alembic heads`` (a process of its own and seconds of CPU for each new gradebook)."""
    import nbgrader.api

    head = alembic_head()
    if head is not None:
        nbgrader.api.get_alembic_version = lambda: head


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
