"""course_grading.release without a real assignment (the round trip is in tests/grading_runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_grading.course import GradingError
from course_grading.release import release


def test_release_of_an_unknown_assignment_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.source_directory = "solutions"\n')
    (tmp_path / "solutions" / "01-a").mkdir(parents=True)
    with pytest.raises(GradingError, match="no assignment 'missing'"):
        release(tmp_path, ["missing"])
