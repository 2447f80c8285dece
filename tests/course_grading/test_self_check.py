"""course_grading.self_check without a kernel (the learner's whole path: tests/grading_runs)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_grading.course import GradingError
from course_grading.self_check import _assignment_of, _cache_key, _error_message, find_notebook


def workspace_with(root: Path, *names: str) -> None:
    for name in names:
        (root / "work" / name).mkdir(parents=True)
        (root / "work" / name / f"{name}.ipynb").write_text("{}")


def test_an_exercise_is_found_by_number_name_or_path(tmp_path: Path) -> None:
    workspace_with(tmp_path, "01-concepts", "04-baseline-mlp")
    expected = tmp_path / "work" / "04-baseline-mlp" / "04-baseline-mlp.ipynb"
    assert find_notebook(tmp_path, "04") == expected
    assert find_notebook(tmp_path, "04-baseline-mlp") == expected
    assert find_notebook(tmp_path, str(expected)) == expected


@pytest.mark.parametrize("exercise", ["0", "9", "missing.ipynb"])
def test_no_single_match_is_an_error_that_says_what_was_found(tmp_path: Path,
                                                              exercise: str) -> None:
    workspace_with(tmp_path, "01-concepts", "04-baseline-mlp")
    with pytest.raises(GradingError, match="found|does not exist"):
        find_notebook(tmp_path, exercise)


def test_a_notebook_of_no_exercise_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.source_directory = 'solutions'\n")
    (tmp_path / "solutions" / "01-concepts").mkdir(parents=True)
    (tmp_path / "solutions" / "01-concepts" / "01-concepts.ipynb").write_text("{}")
    assert _assignment_of(tmp_path / "anywhere" / "01-concepts.ipynb", tmp_path) == "01-concepts"
    with pytest.raises(GradingError, match="not one of the course's exercises.*hidden tests"):
        _assignment_of(tmp_path / "work" / "my-notes.ipynb", tmp_path)


def test_the_message_is_the_exception_a_test_cell_ended_with() -> None:
    cell = nbformat.v4.new_code_cell("assert False, 'why'")
    assert _error_message(cell) == ""
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="why",
                                           traceback=["hidden source"])]
    assert _error_message(cell) == "AssertionError: why"
    cell.outputs[1].evalue = "x" * 1000
    assert len(_error_message(cell)) < 420 and _error_message(cell).endswith("…")


def test_the_cached_gradebook_is_keyed_by_the_sources_and_the_configuration(
        tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.source_directory = 'solutions'\n")
    source = tmp_path / "solutions" / "01-concepts" / "01-concepts.ipynb"
    source.parent.mkdir(parents=True)
    source.write_text("{}")
    key = _cache_key(tmp_path, "01-concepts")
    assert _cache_key(tmp_path, "01-concepts") == key
    source.write_text('{"changed": 1}')
    changed_source = _cache_key(tmp_path, "01-concepts")
    assert changed_source != key
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n# another setting\n")
    assert _cache_key(tmp_path, "01-concepts") not in (key, changed_source)
