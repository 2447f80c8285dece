"""course_grading's own description: its list of modules is every module it has."""

from __future__ import annotations

from pathlib import Path

import course_grading


def test_the_package_lists_and_describes_every_module() -> None:
    modules = {path.stem for path in Path(course_grading.__file__).parent.glob("*.py")
               if path.stem not in ("__init__", "__main__")}
    assert set(course_grading.__all__) == modules
    for module in modules:
        assert f"course_grading.{module}`" in course_grading.__doc__, module
