"""One partly correct submission per exercise, and the score nbgrader must give it.

Each entry starts from the committed student copy, fills some answer cells with the instructor's
solution, others with a plausible wrong answer, and leaves the rest untouched. Add an entry for
every new exercise: tests/grading/test_roundtrip.py grades them all in one class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from tests.grading.conftest import REPO, answer_cells, solution_source


@dataclass(frozen=True)
class PartialSubmission:
    """Answers to paste into a student copy, and the score they must earn."""

    assignment: str
    solved: tuple[str, ...]  # grade_ids answered with the instructor's solution
    expected_score: float
    wrong: dict[str, str] = field(default_factory=dict)  # grade_id -> wrong answer source

    def notebook(self) -> nbformat.NotebookNode:
        name = f"{self.assignment}.ipynb"
        notebook = nbformat.read(REPO / "notebooks" / self.assignment / name, as_version=4)
        cells = answer_cells(notebook)
        for grade_id in self.solved:
            cells[grade_id].source = solution_source(self.assignment, grade_id)
        for grade_id, source in self.wrong.items():
            cells[grade_id].source = source.strip()
        return notebook


PARTIAL_SUBMISSIONS = [
    # Parts 1 and 3 solved, part 4 steps *up* the gradient, parts 2 and 5 untouched: 2 + 2 of 10.
    PartialSubmission(
        assignment="01-concepts",
        solved=("part-1-relu-sigmoid", "part-3-dense-forward"),
        wrong={"part-4-gradient-step": '''
def gradient_step(w, b, x, y, learning_rate):
    error = x @ w + b - y
    return w + learning_rate * 2 * x.T @ error / len(x), b + learning_rate * 2 * error.mean()
'''},
        expected_score=4.0,
    ),
]
