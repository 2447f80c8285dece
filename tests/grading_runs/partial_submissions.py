"""One partly correct submission per exercise, and the score nbgrader must give it.

Each entry starts from the committed student copy, fills some answer cells with the instructor's
solution, puts one wrong answer of the mutation suite (mutations/<assignment>.yaml) into another,
and leaves the rest untouched. The round trip (test_roundtrip.py) grades them all through the
full `make grade` path, so nbgrader and the mutation suite must agree on those answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat
import yaml

from tests.grading_runs.mutation_runner import MUTATIONS
from tests.support import REPO, answer_cells, solution_source


def wrong_answer(assignment: str, what: str) -> dict:
    """The wrong answer of the mutation suite that ``what`` describes."""
    variants = yaml.safe_load((MUTATIONS / f"{assignment}.yaml").read_text())["variants"]
    found = [v for v in variants if v["what"] == what and v["kind"] == "wrong"]
    assert len(found) == 1, f"{assignment}: no single wrong answer {what!r}"
    return found[0]


@dataclass(frozen=True)
class PartialSubmission:
    """Answers to paste into a student copy, and the score they must earn."""

    assignment: str
    solved: tuple[str, ...]  # grade_ids answered with the instructor's solution
    wrong: str  # the `what` of a wrong answer in mutations/<assignment>.yaml
    expected_score: float

    def notebook(self) -> nbformat.NotebookNode:
        name = f"{self.assignment}.ipynb"
        notebook = nbformat.read(REPO / "notebooks" / self.assignment / name, as_version=4)
        cells = answer_cells(notebook)
        for grade_id in self.solved:
            cells[grade_id].source = solution_source(self.assignment, grade_id)
        answer = wrong_answer(self.assignment, self.wrong)
        cells[answer["part"]].source = answer["code"].strip()
        return notebook


# Each wrong answer passes its part's visible tests: only the hidden ones catch it.
PARTIAL_SUBMISSIONS = [
    # parts 1 and 3 solved, part 2 wrong, parts 4 and 5 untouched: 2 + 2 of 10
    PartialSubmission("01-concepts", ("part-1-relu-sigmoid", "part-3-dense-forward"),
                      "subtracts the global maximum, not each row's", 4.0),
    # parts 1, 3 and 5 solved, part 4 wrong, part 2 untouched: 2 + 2 + 2 of 10
    PartialSubmission("02-environment",
                      ("part-1-build-mlp", "part-3-lenet", "part-5-initial-kernel"),
                      "categorical cross-entropy (the one for one-hot labels)", 6.0),
    # parts 1, 3 and 5 solved, part 4 wrong, part 2 untouched: 2 + 2 + 2 of 10
    PartialSubmission("03-data-preparation",
                      ("part-1-scale", "part-3-one-hot", "part-5-standardize"),
                      "the first examples of each class, not drawn at random", 6.0),
    # parts 2 and 5 solved, part 1 wrong (parts 3 and 4, which use it, untouched): 2 + 2 of 10
    PartialSubmission("04-baseline-mlp", ("part-2-compile", "part-5-learning-curves"),
                      "a hidden layer without an activation (the network stays linear)", 4.0),
    # parts 2 and 3 solved, part 1 wrong, parts 4 and 5 untouched: 2 + 2 of 10
    PartialSubmission("05-evaluation", ("part-2-precision-recall", "part-3-f1"),
                      "a loop over y_true's indices (a longer y_pred passes unnoticed)", 4.0),
    # parts 2, 3 and 5 solved, part 1 wrong, part 4 untouched: 2 + 2 + 2 of 10
    PartialSubmission("06-regularization",
                      ("part-2-build-model", "part-3-train", "part-5-by-hand"),
                      'validation accuracy with mode="min"', 6.0),
    # parts 1, 2 and 4 solved, part 3 wrong, part 5 untouched: 2 + 2 + 2 of 10
    PartialSubmission("07-framework-comparison",
                      ("part-1-build-model", "part-2-to-tensors", "part-4-accuracy"),
                      "never zeroes the gradients", 6.0),
    # parts 1, 2 and 4 solved, part 3 wrong, part 5 untouched: 2 + 2 + 2 of 10
    PartialSubmission("08-next-steps",
                      ("part-1-output-shape", "part-2-conv-params", "part-4-build-cnn"),
                      "ignores the strides of a convolution", 6.0),
]
