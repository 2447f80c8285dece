"""Tests of course_utils.metrics: every function checked against scikit-learn, and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics

from course_utils import metrics

K = 4
RNG = np.random.default_rng(5)
Y_TRUE = RNG.integers(0, K, size=300)
Y_PRED = np.where(RNG.random(300) < 0.6, Y_TRUE, RNG.integers(0, K, size=300))
# Imbalanced, class 3 never predicted and class 2 absent from y_true: every zero division case.
Y_TRUE_ODD = np.array([0, 0, 0, 0, 0, 0, 1, 1, 3, 3])
Y_PRED_ODD = np.array([0, 0, 0, 1, 2, 0, 1, 0, 0, 1])


def matrix(y_true: np.ndarray = Y_TRUE, y_pred: np.ndarray = Y_PRED) -> np.ndarray:
    return metrics.confusion_matrix(y_true, y_pred, K)


# --- confusion_matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(("y_true", "y_pred"), [(Y_TRUE, Y_PRED), (Y_TRUE_ODD, Y_PRED_ODD)],
                         ids=["random", "imbalanced"])
def test_confusion_matrix_equals_sklearn(y_true, y_pred):
    expected = sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(K))
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred, K), expected)


def test_confusion_matrix_rows_are_true_classes_and_columns_predicted():
    result = metrics.confusion_matrix([2], [0], 3)
    assert result[2, 0] == 1 and result.sum() == 1


def test_confusion_matrix_rows_sum_to_class_counts_and_columns_to_prediction_counts():
    result = matrix()
    np.testing.assert_array_equal(result.sum(axis=1), np.bincount(Y_TRUE, minlength=K))
    np.testing.assert_array_equal(result.sum(axis=0), np.bincount(Y_PRED, minlength=K))


def test_confusion_matrix_keeps_zero_rows_and_columns_for_absent_classes():
    result = metrics.confusion_matrix([0, 1], [1, 1], n_classes=4)
    assert result.shape == (4, 4)
    assert result[2:].sum() == 0 and result[:, 2:].sum() == 0


def test_confusion_matrix_infers_the_number_of_classes_from_the_largest_label():
    assert metrics.confusion_matrix([0, 2], [1, 0]).shape == (3, 3)


def test_confusion_matrix_of_no_labels_is_zero_when_n_classes_is_given():
    np.testing.assert_array_equal(metrics.confusion_matrix([], [], 2), np.zeros((2, 2)))


def test_confusion_matrix_accepts_lists_and_any_integer_dtype():
    result = metrics.confusion_matrix(np.array([0, 1], dtype=np.uint8), [1, 1], 2)
    np.testing.assert_array_equal(result, [[0, 1], [0, 1]])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "n_classes", "message"),
    [
        ([0, 1, 2], [0, 1], 3, "3 labels but y_pred has 2"),
        (np.eye(3, dtype=int), np.eye(3, dtype=int), 3, "argmax"),
        ([0, 1], np.full((2, 3), 1 / 3), 3, "argmax"),
        ([0.0, 1.0], [0, 1], 2, "integer class labels"),
        ([0, 3], [0, 1], 3, "y_true has a label outside 0..2"),
        ([0, 1], [0, -1], 3, "y_pred has a label outside 0..2"),
        ([0, 1], [0, 1], 0, "n_classes must be a positive int"),
        ([0, 1], [0, 1], 2.0, "n_classes must be a positive int"),
        ([], [], None, "give n_classes"),
    ],
    ids=["lengths-differ", "one-hot", "probabilities", "float-labels", "true-too-large",
         "negative-pred", "zero-classes", "float-classes", "empty-without-n-classes"],
)
def test_confusion_matrix_bad_input_raises_a_clear_value_error(y_true, y_pred, n_classes, message):
    with pytest.raises(ValueError, match=message):
        metrics.confusion_matrix(y_true, y_pred, n_classes)


# --- precision, recall, F1 ----------------------------------------------------------------------


@pytest.mark.parametrize(("y_true", "y_pred"), [(Y_TRUE, Y_PRED), (Y_TRUE_ODD, Y_PRED_ODD)],
                         ids=["random", "zero-divisions"])
def test_precision_recall_f1_support_equal_sklearn(y_true, y_pred):
    expected = sklearn.metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=range(K), zero_division=0
    )
    for ours, theirs in zip(metrics.precision_recall_f1(matrix(y_true, y_pred)), expected):
        np.testing.assert_allclose(ours, theirs)


def test_precision_recall_f1_follow_the_formulas_on_a_small_matrix():
    precision, recall, f1, support = metrics.precision_recall_f1(np.array([[3, 1], [2, 4]]))
    np.testing.assert_allclose(precision, [3 / 5, 4 / 5])
    np.testing.assert_allclose(recall, [3 / 4, 4 / 6])
    np.testing.assert_allclose(f1, 2 * precision * recall / (precision + recall))
    np.testing.assert_array_equal(support, [4, 6])


def test_zero_divisions_give_zero_without_warning_or_nan():
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        precision, recall, f1, _ = metrics.precision_recall_f1(matrix(Y_TRUE_ODD, Y_PRED_ODD))
    assert precision[3] == 0  # class 3 is never predicted
    assert recall[2] == 0  # class 2 never occurs
    assert f1[2] == f1[3] == 0
    assert not np.isnan(np.concatenate([precision, recall, f1])).any()


def test_precision_recall_f1_accept_a_float_matrix():
    precision, *_ = metrics.precision_recall_f1(np.array([[3.0, 1.0], [2.0, 4.0]]))
    np.testing.assert_allclose(precision, [0.6, 0.8])


@pytest.mark.parametrize(
    "bad",
    [np.zeros((2, 3)), np.zeros(4), np.zeros((0, 0)), np.array([[1, -1], [0, 2]]),
     np.array([[1.0, np.nan], [0.0, 2.0]]), np.array([["a", "b"], ["c", "d"]])],
    ids=["not-square", "1-d", "empty", "negative", "nan", "strings"],
)
def test_precision_recall_f1_bad_matrix_raises_value_error(bad):
    with pytest.raises(ValueError, match="confusion matrix"):
        metrics.precision_recall_f1(bad)


# --- accuracy and averages ----------------------------------------------------------------------


def test_accuracy_equals_sklearn():
    assert metrics.accuracy(matrix()) == pytest.approx(
        sklearn.metrics.accuracy_score(Y_TRUE, Y_PRED)
    )


def test_accuracy_of_an_empty_matrix_raises_value_error():
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy(np.zeros((3, 3), dtype=int))


@pytest.mark.parametrize("average", ["macro", "weighted"])
@pytest.mark.parametrize(("y_true", "y_pred"), [(Y_TRUE, Y_PRED), (Y_TRUE_ODD, Y_PRED_ODD)],
                         ids=["random", "zero-divisions"])
def test_averaged_scores_equal_sklearn(y_true, y_pred, average):
    expected = sklearn.metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=range(K), average=average, zero_division=0
    )[:3]
    assert metrics.averaged_scores(matrix(y_true, y_pred), average) == pytest.approx(expected)


def test_weighted_average_differs_from_macro_only_when_classes_are_imbalanced():
    balanced = metrics.confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], 2)
    assert metrics.averaged_scores(balanced, "macro") == pytest.approx(
        metrics.averaged_scores(balanced, "weighted")
    )
    imbalanced = matrix(Y_TRUE_ODD, Y_PRED_ODD)
    assert metrics.averaged_scores(imbalanced, "macro") != pytest.approx(
        metrics.averaged_scores(imbalanced, "weighted")
    )


def test_macro_recall_is_sklearn_balanced_accuracy():
    _, macro_recall, _ = metrics.averaged_scores(matrix(), "macro")
    assert macro_recall == pytest.approx(sklearn.metrics.balanced_accuracy_score(Y_TRUE, Y_PRED))


@pytest.mark.parametrize(("bad_matrix", "average"), [
    (np.eye(2, dtype=int), "micro"),
    (np.zeros((2, 2), dtype=int), "weighted"),
], ids=["unknown-average", "empty-weighted"])
def test_averaged_scores_bad_input_raises_value_error(bad_matrix, average):
    with pytest.raises(ValueError):
        metrics.averaged_scores(bad_matrix, average)


# --- most confused pairs ------------------------------------------------------------------------

CONFUSION = np.array([
    [50, 9, 0, 1],
    [2, 40, 8, 0],
    [0, 7, 45, 0],
    [10, 0, 0, 30],
])


def test_most_confused_pairs_sum_both_directions_and_sort_largest_first():
    # (1, 2): 8 + 7 = 15 beats (0, 1): 9 + 2 = 11 and (0, 3): 1 + 10 = 11, though 10 and 9
    # are the largest single cells; ties keep index order.
    assert metrics.most_confused_pairs(CONFUSION, top=3) == [(1, 2, 15), (0, 1, 11), (0, 3, 11)]


def test_most_confused_pairs_directed_are_single_cells_true_then_predicted():
    assert metrics.most_confused_pairs(CONFUSION, top=2, symmetric=False) == [
        (3, 0, 10), (0, 1, 9),
    ]


def test_most_confused_pairs_leave_out_zero_counts_and_the_diagonal():
    assert metrics.most_confused_pairs(np.diag([5, 5, 5])) == []
    # only 3 of the 6 pairs were ever confused, so asking for 100 gives those 3
    assert metrics.most_confused_pairs(CONFUSION, top=100) == [(1, 2, 15), (0, 1, 11), (0, 3, 11)]


def test_most_confused_pairs_top_pair_is_the_maximum_of_c_plus_c_transposed():
    counts = matrix()
    symmetric = counts + counts.T
    np.fill_diagonal(symmetric, 0)
    a, b, count = metrics.most_confused_pairs(counts, top=1)[0]
    assert count == symmetric.max() == symmetric[a, b] and a < b


def test_most_confused_pairs_of_a_float_matrix_give_float_counts():
    (a, b, rate), = metrics.most_confused_pairs(np.array([[0.9, 0.1], [0.3, 0.7]]), top=1)
    assert (a, b) == (0, 1) and rate == pytest.approx(0.4)


@pytest.mark.parametrize("top", [0, -1, 1.5, True])
def test_most_confused_pairs_bad_top_raises_value_error(top):
    with pytest.raises(ValueError, match="top"):
        metrics.most_confused_pairs(CONFUSION, top=top)


def test_most_confused_pairs_bad_matrix_raises_value_error():
    with pytest.raises(ValueError, match="square"):
        metrics.most_confused_pairs(np.zeros((2, 3)))
