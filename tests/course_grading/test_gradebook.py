"""course_grading.gradebook: the gradebook is wherever nbgrader_config.py puts it."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest
from sqlalchemy.exc import SAWarning

from course_grading import gradebook
from course_grading.course import GradingError
from course_grading.hub import free_port


def test_default_is_gradebook_db_in_the_course_root(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert gradebook.db_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"


def test_configured_db_url_is_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'class.db'}"
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {url!r}\n")
    assert gradebook.db_url(tmp_path) == url


@pytest.mark.slow  # a real nbgrader gradebook, migrated by alembic
def test_record_zero_keeps_manual_grades_and_zeroes_automatic_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a new gradebook runs `alembic` by name, as nbgrader's own processes do (course_grading
    # gives them this interpreter's scripts folder first on PATH)
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    (tmp_path / "shared").mkdir()
    url = f"sqlite:///{tmp_path / 'shared' / 'class.db'}"
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {url!r}\n")
    with gradebook.open_gradebook(tmp_path) as book, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use, harmless
        book.add_assignment("01-a")
        notebook = book.add_notebook("nb", "01-a")
        book.add_grade_cell("part-1", "nb", "01-a", max_score=2, cell_type="code")
        book.add_student("al")
        submission = book.add_submission("01-a", "al")
        grade = submission.notebooks[0].grades[0]
        grade.auto_score, grade.manual_score = 2, 1.5
        book.db.commit()
        assert notebook.name == "nb"
    gradebook.record_zero(tmp_path, "01-a", "al")
    with gradebook.open_gradebook(tmp_path) as book:
        grade = book.find_grade("part-1", "nb", "01-a", "al")
        assert (grade.auto_score, grade.manual_score) == (0, 1.5)
    assert not (tmp_path / "gradebook.db").exists()  # the configured database, not the default


def _configure(course: Path, url: str) -> None:
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = {url!r}\n")


def test_an_unreachable_gradebook_is_one_line_without_its_password(tmp_path: Path) -> None:
    _configure(tmp_path, f"postgresql+psycopg://teacher:s3cret@127.0.0.1:{free_port()}/course")
    with pytest.raises(GradingError) as raised:
        gradebook.check_reachable(tmp_path)
    message = str(raised.value)
    assert "\n" not in message and "s3cret" not in message
    assert "postgresql+psycopg://teacher:***@127.0.0.1:" in message
    assert "cannot be opened" in message and "Connection refused" in message
    assert "PGPASSWORD" in message and "nbgrader_config.py" in message


def test_a_url_that_names_no_database_this_environment_knows_is_refused(tmp_path: Path) -> None:
    _configure(tmp_path, "nosuchdb://teacher@somewhere/course")
    with pytest.raises(GradingError, match="is not a database URL this environment can open"):
        gradebook.check_reachable(tmp_path)


def test_an_sqlite_gradebook_is_left_for_nbgrader_to_make(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    gradebook.check_reachable(tmp_path)
    assert not (tmp_path / "gradebook.db").exists()  # an empty file would not be a gradebook


def write_revisions(folder: Path, revisions: dict[str, object]) -> Path:
    folder.mkdir()
    for revision, down in revisions.items():
        (folder / f"{revision}_step.py").write_text(
            f'"""a step"""\nimport sqlalchemy\nrevision = {revision!r}\ndown_revision = {down!r}\n')
    return folder


def test_the_schema_head_is_the_revision_nothing_builds_on(tmp_path) -> None:
    chain = write_revisions(tmp_path / "chain", {"a1": None, "b2": "a1", "c3": "b2"})
    assert gradebook.alembic_head(chain) == "c3"
    merged = write_revisions(tmp_path / "merged", {"a1": None, "b2": "a1", "b3": "a1",
                                                   "m4": ("b2", "b3")})
    assert gradebook.alembic_head(merged) == "m4"
    # two heads, or a script without its revision: nbgrader's own way decides
    assert gradebook.alembic_head(write_revisions(tmp_path / "two", {"a1": None, "b2": "a1",
                                                                     "b3": "a1"})) is None
    broken = write_revisions(tmp_path / "broken", {"a1": None})
    (broken / "x_step.py").write_text("down_revision = 'a1'\n")
    assert gradebook.alembic_head(broken) is None


@pytest.mark.slow
def test_the_schema_head_is_the_one_alembic_names(monkeypatch) -> None:
    from nbgrader.api import get_alembic_version

    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    assert gradebook.alembic_head() == get_alembic_version()  # `alembic heads`, run by nbgrader


def test_a_new_gradebook_is_made_without_running_alembic(tmp_path, monkeypatch) -> None:
    import nbgrader.api
    from sqlalchemy import create_engine, text

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", nbgrader.api.get_alembic_version)
    monkeypatch.setenv("PATH", str(tmp_path))  # no alembic to run
    (tmp_path / "nbgrader_config.py").write_text("")
    with gradebook.open_gradebook(tmp_path):
        pass
    engine = create_engine(f"sqlite:///{tmp_path / 'gradebook.db'}")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert stored == gradebook.alembic_head()
