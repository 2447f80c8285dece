"""The intro page's table of study times, computed from the notebooks when the book is built.

``{study-times}`` in a page becomes a table with one row per chapter: the words of the lesson's
text and of its exercise's text, their code cells, and an estimate from a stated rule — reading
at ``WORDS_PER_MINUTE`` words a minute, plus ``MINUTES_PER_CODE_CELL`` for each code cell of a
lesson (reading and running it) and ``MINUTES_PER_EXERCISE_PART`` for each part of an exercise
(writing and testing an answer). The rule is an estimate; the counts are measured.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 1
MINUTES_PER_EXERCISE_PART = 15
WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")


def words(text: str) -> int:
    """The words of a markdown text, leaving out fenced code and maths."""
    text = re.sub(r"```.*?```|\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    return len(WORD.findall(text))


def notebook_counts(path: Path) -> tuple[int, int, int]:
    """(words of text, code cells a reader sees, answer cells) of a notebook."""
    notebook = nbformat.read(path, as_version=4)
    text = sum(words(cell.source) for cell in notebook.cells if cell.cell_type == "markdown")
    code = sum(cell.cell_type == "code" and "remove-cell" not in cell.metadata.get("tags", [])
               for cell in notebook.cells)
    answers = sum(bool(cell.metadata.get("nbgrader", {}).get("solution"))
                  for cell in notebook.cells)
    return text, code, answers


def lesson_minutes(text_words: int, code_cells: int) -> int:
    """The estimate for a lesson, by the module's rule."""
    return math.ceil(text_words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CODE_CELL)


def exercise_minutes(text_words: int, parts: int) -> int:
    """The estimate for an exercise, by the module's rule."""
    return math.ceil(text_words / WORDS_PER_MINUTE + parts * MINUTES_PER_EXERCISE_PART)


def hours(minutes: int) -> str:
    """``95`` → ``1 h 35 min``; ``40`` → ``40 min``."""
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


class StudyTimes(Directive):
    """``{study-times}``: the table of measured counts and estimated times."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        root = Path(env.srcdir)
        header = ["chapter", "lesson: words, code cells", "lesson: estimate",
                  "exercise: words, parts", "exercise: estimate"]
        rows = []
        for lesson in sorted((root / "book").glob("[0-9][0-9]-*.ipynb")):
            env.note_dependency(str(lesson))
            text, code, _ = notebook_counts(lesson)
            row = [lesson.stem[:2].lstrip("0"), f"{text:,}, {code}",
                   hours(lesson_minutes(text, code)), "—", "—"]
            exercise = root / "notebooks" / lesson.stem / lesson.name
            if exercise.is_file():
                env.note_dependency(str(exercise))
                text, _, parts = notebook_counts(exercise)
                row[3:] = [f"{text:,}, {parts}", hours(exercise_minutes(text, parts))]
            rows.append(row)
        return [table(header, rows)]


def table(header: list[str], rows: list[list[str]]) -> nodes.table:
    """A docutils table with one header row."""
    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    group += nodes.thead("", row(header))
    group += nodes.tbody("", *(row(cells) for cells in rows))
    return nodes.table("", group, classes=["study-times"])


def row(cells: list[str]) -> nodes.row:
    """A table row of plain-text cells."""
    return nodes.row("", *(nodes.entry("", nodes.paragraph(text=cell)) for cell in cells))


def setup_directive(app: Sphinx) -> None:
    """Register ``{study-times}``."""
    app.add_directive("study-times", StudyTimes)
