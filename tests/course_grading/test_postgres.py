"""course_grading.postgres without a server (a real one serves tests/grading_runs)."""

from __future__ import annotations

import pytest

from course_grading import postgres
from course_grading.course import GradingError


def test_missing_server_programs_are_a_clear_error(monkeypatch) -> None:
    monkeypatch.setattr(postgres, "server_programs", lambda: None)
    with pytest.raises(GradingError, match="apt-get install postgresql"):
        postgres.TemporaryPostgres()


def test_the_url_exists_only_while_the_server_runs() -> None:
    if postgres.server_programs() is None:
        pytest.skip("PostgreSQL is not installed")
    with pytest.raises(GradingError, match="with block"):
        _ = postgres.TemporaryPostgres().url
