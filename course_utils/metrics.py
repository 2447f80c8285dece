"""Classification metrics from a confusion matrix, in plain NumPy (chapter 5).

The confusion matrix ``C`` of a classifier with ``k`` classes is a ``k × k`` table of counts:
``C[t, p]`` is the number of examples of true class ``t`` predicted as class ``p`` (rows are true
classes, columns predicted ones — the convention of scikit-learn). Everything else follows from it:

* true positives of class ``c``: ``C[c, c]``; false positives: the rest of column ``c``;
  false negatives: the rest of row ``c``;
* precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``, and their harmonic mean F1;
* accuracy, the trace over the total.

A score whose denominator is zero (precision of a class that is never predicted, recall of a
class that never occurs) is 0, without a warning: scikit-learn's ``zero_division=0``. The unit
tests check every function against scikit-learn.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from course_utils._checks import positive_int

__all__ = [
    "accuracy",
    "averaged_scores",
    "confusion_matrix",
    "most_confused_pairs",
    "precision_recall_f1",
]


def _labels(values: np.ndarray | list[int], name: str) -> np.ndarray:
    labels = np.asarray(values)
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D integer class labels, got shape {labels.shape}; for one-hot "
            "rows or predicted probabilities take the argmax over axis 1 first"
        )
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}")
    return labels.astype(np.int64)


def confusion_matrix(
    y_true: np.ndarray | list[int],
    y_pred: np.ndarray | list[int],
    n_classes: int | None = None,
) -> np.ndarray:
    """The ``n_classes × n_classes`` matrix of counts: row = true class, column = predicted.

    ``n_classes`` defaults to the largest label + 1; give it when a class may be absent from
    both arrays (its row and column are then zero).
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if n_classes is None:
        if len(y_true) == 0:
            raise ValueError("no labels to count: give n_classes for empty arrays")
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    positive_int(n_classes, "n_classes")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{name} has a label outside 0..{n_classes - 1}")
    # Each (true, predicted) pair gets one number, true * k + predicted; count them all at once.
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def _matrix(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(f"a confusion matrix is square (k × k, k ≥ 1), got shape {matrix.shape}")
    if not (np.issubdtype(matrix.dtype, np.integer) or np.issubdtype(matrix.dtype, np.floating)):
        raise ValueError(f"a confusion matrix holds counts, got dtype {matrix.dtype}")
    if not np.all(np.isfinite(matrix)) or np.any(matrix < 0):
        raise ValueError("a confusion matrix holds counts: finite and non-negative")
    return matrix


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, and 0 where the denominator is 0 (no warning, no NaN)."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator != 0)


def precision_recall_f1(
    matrix: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 and support (true examples per class) of a matrix.

    Like ``sklearn.metrics.precision_recall_fscore_support(..., zero_division=0)``.
    """
    matrix = _matrix(matrix)
    true_positives = np.diag(matrix)
    predicted = matrix.sum(axis=0)  # TP + FP: everything predicted as the class
    support = matrix.sum(axis=1)  # TP + FN: everything that truly is the class
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return precision, recall, f1, support


def accuracy(matrix: np.ndarray) -> float:
    """The fraction of examples on the diagonal: correct predictions over all predictions."""
    matrix = _matrix(matrix)
    total = matrix.sum()
    if total == 0:
        raise ValueError("the confusion matrix is empty: accuracy of no predictions is undefined")
    return float(np.trace(matrix) / total)


def averaged_scores(
    matrix: np.ndarray, average: Literal["macro", "weighted"] = "macro"
) -> tuple[float, float, float]:
    """Precision, recall and F1 averaged over the classes.

    ``"macro"``: the plain mean, every class counts the same. ``"weighted"``: each class weighted
    by its support, so frequent classes count more (with balanced classes the two agree).
    """
    precision, recall, f1, support = precision_recall_f1(matrix)
    if average == "macro":
        weights = np.ones(len(support))
    elif average == "weighted":
        if support.sum() == 0:
            raise ValueError("the confusion matrix is empty: no support to weight by")
        weights = support.astype(float)
    else:
        raise ValueError(f"average must be 'macro' or 'weighted', got {average!r}")
    return tuple(float(np.average(scores, weights=weights)) for scores in (precision, recall, f1))


def most_confused_pairs(
    matrix: np.ndarray, top: int = 5, *, symmetric: bool = True
) -> list[tuple[int, int, int | float]]:
    """The ``top`` largest confusions, largest first, as ``(class_a, class_b, count)``.

    ``symmetric=True`` adds both directions, ``C[a, b] + C[b, a]``, and returns pairs with
    ``a < b``; ``symmetric=False`` returns ``(true, predicted, count)`` for single cells.
    The diagonal and zero counts are left out; ties keep the order of the class indices.
    """
    matrix = _matrix(matrix)
    positive_int(top, "top")
    counts = matrix + matrix.T if symmetric else matrix.copy()
    rows, cols = np.triu_indices(len(matrix), k=1) if symmetric else np.nonzero(
        ~np.eye(len(matrix), dtype=bool)
    )
    values = counts[rows, cols]
    order = np.argsort(-values, kind="stable")[:top]
    return [(int(rows[i]), int(cols[i]), values[i].item()) for i in order if values[i] > 0]
