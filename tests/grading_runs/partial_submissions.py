"""One partly correct submission per exercise, and the score nbgrader must give it.

Each entry starts from the committed student copy, fills some answer cells with the instructor's
solution, others with a plausible wrong answer, and leaves the rest untouched. Add an entry for
every new exercise: tests/grading_runs/test_roundtrip.py grades them all in one class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from tests.support import REPO, answer_cells, solution_source


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
    # Parts 1, 3 and 5 solved; part 4 compiles with the one-hot loss for integer labels (passes
    # the visible tests, fails the hidden ones); part 2 untouched: 2 + 2 + 2 of 10.
    PartialSubmission(
        assignment="02-environment",
        solved=("part-1-build-mlp", "part-3-lenet", "part-5-initial-kernel"),
        wrong={"part-4-classifier": '''
def build_classifier(n_inputs, n_classes):
    model = keras.Sequential([
        keras.Input(shape=(n_inputs,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
'''},
        expected_score=6.0,
    ),
    # Parts 1, 3 and 5 solved; part 4 puts the *first* examples of each class into validation
    # (disjoint and stratified, so it passes the visible tests, but not random: the hidden tests
    # catch it); part 2 untouched: 2 + 2 + 2 of 10.
    PartialSubmission(
        assignment="03-data-preparation",
        solved=("part-1-scale", "part-3-one-hot", "part-5-standardize"),
        wrong={"part-4-split": '''
def stratified_split(labels, validation_fraction, seed):
    val_idx = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        val_idx.extend(members[:round(validation_fraction * len(members))])
    val_idx = np.sort(np.array(val_idx))
    return np.setdiff1d(np.arange(len(labels)), val_idx), val_idx
'''},
        expected_score=6.0,
    ),
    # Parts 1 and 5 solved; part 2 compiles with the default categorical cross-entropy while
    # training on integer labels (the most common Keras loss mismatch); parts 3 and 4 untouched:
    # 2 + 2 of 10.
    PartialSubmission(
        assignment="04-baseline-mlp",
        solved=("part-1-build-model", "part-5-parameter-count"),
        wrong={"part-2-compile": '''
repro.set_seed(0)
model = build_model()
train_labels = y_train
train.compile_model(model)  # categorical cross-entropy expects one-hot labels
'''},
        expected_score=4.0,
    ),
    # Parts 1 and 3 solved; part 2 guards the zero denominators with np.where, which still
    # divides by zero first (a RuntimeWarning, caught by the test cell when a class is never
    # predicted), though its values on the exercise's data are right; parts 4 and 5 untouched:
    # 2 + 2 of 10.
    PartialSubmission(
        assignment="05-evaluation",
        solved=("part-1-confusion-matrix", "part-3-f1"),
        wrong={"part-2-precision-recall": '''
def precision_recall(matrix):
    true_positives = np.diag(matrix)
    precision = np.where(matrix.sum(axis=0) > 0, true_positives / matrix.sum(axis=0), 0.0)
    recall = np.where(matrix.sum(axis=1) > 0, true_positives / matrix.sum(axis=1), 0.0)
    return precision, recall


precision, recall = precision_recall(matrix)
'''},
        expected_score=4.0,
    ),
    # Parts 2, 3 and 5 solved; part 1 monitors val_accuracy with mode="min" (passes the visible
    # tests, but the callback now treats the worst accuracy as the best: the hidden tests catch
    # it), which still lets part 3 train; part 4 untouched: 2 + 2 + 2 of 10.
    PartialSubmission(
        assignment="06-regularization",
        solved=("part-2-build-model", "part-3-train", "part-5-by-hand"),
        wrong={"part-1-early-stopping": '''
early_stopping = keras.callbacks.EarlyStopping(
    monitor="val_accuracy", patience=5, restore_best_weights=True, mode="min"
)
'''},
        expected_score=6.0,
    ),
    # Parts 1, 2 and 4 solved; part 3 forgets optimizer.zero_grad(), so gradients pile up from
    # batch to batch (the visible tests pass, the hidden ones count the calls); part 5 untouched:
    # 2 + 2 + 2 of 10.
    PartialSubmission(
        assignment="07-framework-comparison",
        solved=("part-1-build-model", "part-2-to-tensors", "part-4-accuracy"),
        wrong={"part-3-train-one-epoch": '''
def train_one_epoch(model, optimizer, loss_fn, inputs, targets, batch_size, generator):
    model.train()
    order = torch.randperm(len(inputs), generator=generator)
    losses = []
    for start in range(0, len(inputs), batch_size):
        batch = order[start:start + batch_size]
        loss = loss_fn(model(inputs[batch]), targets[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))
'''},
        expected_score=6.0,
    ),
]
