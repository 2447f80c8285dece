"""course_authoring.book_html.study_time: the counts and the stated rule of the intro's table."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_authoring.book_html.study_time import (
    exercise_minutes,
    hours,
    lesson_minutes,
    notebook_counts,
    words,
)


def test_words_leave_out_code_and_maths() -> None:
    assert words("A layer computes $y = Wx + b$, see:\n```python\nx = 1\n```\nthen it's done.") \
        == len("A layer computes see then it's done".split())
    assert words("$$\\sum_i w_i$$") == 0


def test_a_notebook_counts_its_text_visible_code_and_answers(tmp_path: Path) -> None:
    hidden = nbformat.v4.new_code_cell("assert ok")
    hidden.metadata["tags"] = ["remove-cell"]
    answer = nbformat.v4.new_code_cell("raise NotImplementedError()")
    answer.metadata["nbgrader"] = {"solution": True}
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("one two three"), nbformat.v4.new_code_cell("x = 1"),
        hidden, answer])
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    assert notebook_counts(path) == (3, 2, 1)


def test_the_rule_is_reading_speed_plus_minutes_per_cell_or_part() -> None:
    assert lesson_minutes(2000, 20) == 10 + 20
    assert exercise_minutes(1000, 5) == 5 + 5 * 15
    assert lesson_minutes(1, 0) == 1  # rounded up


@pytest.mark.parametrize(("minutes", "text"), [(40, "40 min"), (60, "1 h 00 min"),
                                               (95, "1 h 35 min")])
def test_hours(minutes: int, text: str) -> None:
    assert hours(minutes) == text
