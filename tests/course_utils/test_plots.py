"""Tests of course_utils.plots: every plot function smoke-run, colours, counts, input checks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported (by course_utils.plots)

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402

from course_utils import numpy_nn, plots  # noqa: E402

NAMES = ("cat", "dog", "bird")
RNG = np.random.default_rng(0)
Y_TRUE = RNG.integers(0, 3, size=40)
Y_PRED = np.where(RNG.random(40) < 0.6, Y_TRUE, RNG.integers(0, 3, size=40))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


# name -> (call producing the figure, number of axes, check of titles and labels)
PLOT_CASES = {
    "plot_activations": (
        lambda: plots.plot_activations(
            {"relu": numpy_nn.relu, "sigmoid": numpy_nn.sigmoid, "tanh": numpy_nn.tanh},
            derivatives={"relu": numpy_nn.relu_grad},
        ),
        3,
        lambda fig: titles(fig) == ["relu", "sigmoid", "tanh"]
        and all(ax.get_xlabel() == "z" for ax in fig.axes),
    ),
    "plot_image_grid": (
        lambda: plots.plot_image_grid(RNG.random((8, 4, 4)), Y_TRUE[:8], NAMES, n_rows=2, n_cols=4),
        8,
        lambda fig: titles(fig) == [NAMES[k] for k in Y_TRUE[:8]],
    ),
    "plot_class_counts": (
        lambda: plots.plot_class_counts({"training": Y_TRUE, "test": Y_PRED}, NAMES),
        1,
        lambda fig: fig.axes[0].get_xlabel() == "number of images"
        and [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(NAMES),
    ),
    "plot_learning_curves": (
        lambda: plots.plot_learning_curves(
            {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
        ),
        2,
        lambda fig: titles(fig) == ["loss", "accuracy"]
        and [ax.get_xlabel() for ax in fig.axes] == ["epoch", "epoch"],
    ),
    "plot_loss_curves": (
        lambda: plots.plot_loss_curves({"SGD": [3, 2, 1.5], "Adam": [3, 1, 0.5]}, xlabel="epoch"),
        1,
        lambda fig: fig.axes[0].get_xlabel() == "epoch" and fig.axes[0].get_ylabel() == "loss",
    ),
    "plot_prediction_grid": (
        lambda: plots.plot_prediction_grid(
            RNG.random((6, 4, 4)), Y_TRUE[:6], Y_PRED[:6], NAMES, n_rows=2, n_cols=3
        ),
        6,
        lambda fig: all(title.count("\n/ ") == 1 for title in titles(fig)),
    ),
    "plot_confusion_matrix": (
        lambda: plots.plot_confusion_matrix(Y_TRUE, Y_PRED, NAMES),
        1,
        lambda fig: fig.axes[0].get_xlabel() == "predicted"
        and fig.axes[0].get_ylabel() == "true"
        and [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(NAMES),
    ),
    "plot_confused_examples": (
        lambda: plots.plot_confused_examples(
            RNG.random((40, 4, 4)), Y_TRUE, Y_PRED, [(0, 1), (1, 2)], NAMES, n_examples=3
        ),
        12,
        lambda fig: [ax.get_ylabel().split("\n")[:2] for ax in fig.axes[::3]] == [
            ["true: cat", "predicted: dog"], ["true: dog", "predicted: cat"],
            ["true: dog", "predicted: bird"], ["true: bird", "predicted: dog"],
        ],
    ),
    "plot_run_comparison": (
        lambda: plots.plot_run_comparison({
            "baseline": {"val_loss": [1.0, 0.8, 0.9], "val_accuracy": [0.5, 0.6, 0.6]},
            "dropout": {"val_loss": [1.0, 0.7], "val_accuracy": [0.5, 0.7]},
        }),
        2,
        lambda fig: titles(fig) == ["validation loss", "validation accuracy"]
        and [ax.get_xlabel() for ax in fig.axes] == ["epoch", "epoch"],
    ),
    "plot_layer_profile": (
        lambda: plots.plot_layer_profile(
            {"sigmoid": [1e-6, 1e-4, 1e-2], "relu": {"h1": 0.1, "h2": 0.2, "out": 0.3}},
            ylabel="gradient norm",
        ),
        1,
        lambda fig: fig.axes[0].get_ylabel() == "gradient norm"
        and fig.axes[0].get_yscale() == "log",
    ),
}


def test_every_plot_function_has_a_smoke_case():
    functions = {name for name in plots.__all__ if name.startswith("plot_")}
    assert functions == set(PLOT_CASES)


@pytest.mark.parametrize("name", sorted(PLOT_CASES))
def test_plot_function_returns_figure_with_expected_axes_and_labels(name):
    make, n_axes, labels_ok = PLOT_CASES[name]
    fig = make()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    assert labels_ok(fig)


@pytest.mark.parametrize("name", sorted(PLOT_CASES))
def test_figure_fits_the_book_column_with_legible_text(name):
    """No wider than the text column and no text smaller than SMALL_TEXT: legible on a phone."""
    fig = PLOT_CASES[name][0]()
    assert fig.get_size_inches()[0] <= plots.COLUMN_WIDTH
    sizes = [text.get_fontsize() for text in fig.findobj(Text)
             if text.get_text() and text.get_visible()]
    assert min(sizes) >= plots.SMALL_TEXT


# --- prediction grid ----------------------------------------------------------------------------


def test_book_style_restores_only_its_own_settings():
    """What is changed inside besides the text sizes stays: the inline backend's settings, made
    when the first figure starts it, must survive, or later figures are not shown."""
    before = plt.rcParams["font.size"], plt.rcParams["figure.facecolor"]
    try:
        with plots.book_style():
            assert plt.rcParams["font.size"] == plots.BOOK_STYLE["font.size"]
            plt.rcParams["figure.facecolor"] = "beige"  # as a backend setting itself up would
        assert plt.rcParams["font.size"] == before[0]
        assert plt.rcParams["figure.facecolor"] == "beige"
    finally:
        plt.rcParams["figure.facecolor"] = before[1]


def test_prediction_grid_marks_right_and_wrong_by_symbol_and_colour():
    y_true = np.array([0, 1, 2, 0])
    y_pred = np.array([0, 2, 2, 1])
    fig = plots.plot_prediction_grid(np.zeros((4, 3, 3)), y_true, y_pred, NAMES, 2, 2)
    colors = [mcolors.to_hex(ax.title.get_color()) for ax in fig.axes]
    green, red = mcolors.to_hex(plots.RIGHT_COLOR), mcolors.to_hex(plots.WRONG_COLOR)
    assert colors == [green, red, green, red]
    marks = [ax.get_title().split()[0] for ax in fig.axes]
    assert marks == [plots.RIGHT_MARK, plots.WRONG_MARK, plots.RIGHT_MARK, plots.WRONG_MARK]
    assert plots.RIGHT_MARK != plots.WRONG_MARK


@pytest.mark.parametrize("color", [plots.RIGHT_COLOR, plots.WRONG_COLOR])
def test_right_and_wrong_colours_are_readable_on_white(color):
    """WCAG's contrast ratio of the title colour against a white background is at least 4.5."""
    def luminance(rgb):
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    assert (1.05) / (luminance(mcolors.to_rgb(color)) + 0.05) >= 4.5


def test_prediction_grid_title_is_predicted_then_true_class():
    fig = plots.plot_prediction_grid(np.zeros((1, 3, 3)), [0], [2], NAMES, 1, 1)
    assert fig.axes[0].get_title() == f"{plots.WRONG_MARK} bird\n/ cat"


def test_prediction_grid_shows_only_the_first_rows_times_cols_images():
    fig = plots.plot_prediction_grid(np.zeros((10, 3, 3)), [0] * 10, [0] * 10, NAMES, 2, 2)
    assert len(fig.axes) == 4


@pytest.mark.parametrize(
    ("images", "y_true", "y_pred", "message"),
    [
        (np.zeros((4, 9)), [0] * 4, [0] * 4, "images must be"),
        (np.zeros((3, 3, 3)), [0] * 4, [0] * 4, "needs 4 images"),
        (np.zeros((4, 3, 3)), [0] * 3, [0] * 4, "needs 4 images"),
        (np.zeros((4, 3, 3)), [0] * 4, [0, 0, 0, 3], "label"),
        (np.zeros((4, 3, 3)), [0, 0, -1, 0], [0] * 4, "label"),
        (np.zeros((4, 3, 3)), np.eye(3)[[0, 1, 2, 0]], [0] * 4, "1-D"),
        (np.zeros((4, 3, 3)), [0] * 4, np.full((4, 3), 1 / 3), "1-D"),
    ],
    ids=[
        "flat-images", "few-images", "few-labels", "label-too-large", "negative-label",
        "one-hot-true", "probabilities-pred",
    ],
)
def test_prediction_grid_bad_input_raises_a_clear_value_error(images, y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_prediction_grid(images, y_true, y_pred, NAMES, 2, 2)


# --- image grid and class counts ---------------------------------------------------------------


def test_image_grid_shows_only_the_first_rows_times_cols_images_in_order():
    images = np.arange(10)[:, None, None] * np.ones((10, 3, 3))
    fig = plots.plot_image_grid(images, np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]), NAMES, 2, 3)
    assert len(fig.axes) == 6
    shown = [ax.get_images()[0].get_array()[0, 0] for ax in fig.axes]
    assert shown == [0, 1, 2, 3, 4, 5]
    assert titles(fig) == ["cat", "dog", "bird", "cat", "dog", "bird"]


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((4, 9)), [0] * 4, "reshape flat rows"),
        (np.zeros((3, 3, 3)), [0] * 3, "needs 4 images"),
        (np.zeros((4, 3, 3)), [0] * 3, "needs 4 images"),
        (np.zeros((4, 3, 3)), [0, 1, 2, 3], "outside"),
        (np.zeros((4, 3, 3)), [0, -1, 2, 0], "outside"),
        (np.zeros((4, 3, 3)), np.eye(3, dtype=int)[[0, 1, 2, 0]], "1-D integer"),
        (np.zeros((4, 3, 3)), [0.0, 1.0, 2.0, 0.0], "1-D integer"),
    ],
    ids=["flat-images", "few-images", "few-labels", "label-too-large", "negative-label",
         "one-hot-labels", "float-labels"],
)
def test_image_grid_bad_input_raises_a_clear_value_error(images, labels, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_image_grid(images, np.asarray(labels), NAMES, 2, 2)


def bar_widths(fig: Figure) -> list[list[float]]:
    """Bar lengths per split (one container of bars per split), in class order."""
    return [[bar.get_width() for bar in bars] for bars in fig.axes[0].containers]


def test_class_counts_bars_are_the_counts_per_class_with_absent_classes_zero():
    fig = plots.plot_class_counts({"a": np.array([0, 0, 1]), "b": np.array([2, 2, 2, 2])}, NAMES)
    assert bar_widths(fig) == [[2, 1, 0], [0, 0, 4]]


def test_class_counts_normalized_bars_are_fractions_of_each_split():
    fig = plots.plot_class_counts({"a": np.array([0, 0, 1, 2])}, NAMES, normalize=True)
    assert bar_widths(fig) == [[0.5, 0.25, 0.25]]
    assert fig.axes[0].get_xlabel() == "fraction of the split"


def test_class_counts_legend_names_each_split_with_its_size():
    fig = plots.plot_class_counts({"training": np.zeros(1200, int), "test": Y_TRUE}, NAMES)
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["training (1,200 images)", "test (40 images)"]


def test_class_counts_first_class_is_drawn_at_the_top():
    fig = plots.plot_class_counts({"a": Y_TRUE}, NAMES)
    bottom, top = fig.axes[0].get_ylim()
    assert bottom > top  # y axis inverted: class 0 (y = 0) at the top


@pytest.mark.parametrize(
    "splits",
    [{}, {"a": np.array([], dtype=int)}, {"a": np.array([0, 3])}, {"a": np.array([0.0, 1.0])},
     {"a": np.eye(3, dtype=int)}],
    ids=["no-splits", "empty-split", "label-too-large", "float-labels", "one-hot-labels"],
)
def test_class_counts_bad_input_raises_value_error(splits):
    with pytest.raises(ValueError):
        plots.plot_class_counts(splits, NAMES)


# --- confusion matrix ---------------------------------------------------------------------------


def heatmap_values(fig: Figure) -> np.ndarray:
    mesh = fig.axes[0].collections[0]
    return np.asarray(mesh.get_array()).reshape(len(NAMES), len(NAMES))


def test_confusion_matrix_cells_equal_sklearn_counts():
    fig = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, NAMES)
    expected = confusion_matrix(Y_TRUE, Y_PRED, labels=range(len(NAMES)))
    np.testing.assert_array_equal(heatmap_values(fig), expected)


def test_confusion_matrix_annotations_equal_sklearn_counts():
    fig = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, NAMES)
    annotations = [int(text.get_text()) for text in fig.axes[0].texts]
    expected = confusion_matrix(Y_TRUE, Y_PRED, labels=range(len(NAMES)))
    assert annotations == expected.ravel().tolist()


def test_confusion_matrix_counts_a_class_never_seen_as_zero_row():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 1, 1])
    values = heatmap_values(plots.plot_confusion_matrix(y_true, y_pred, NAMES))
    np.testing.assert_array_equal(values[2], [0, 0, 0])


def test_confusion_matrix_normalized_rows_sum_to_one():
    fig = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, NAMES, normalize=True)
    expected = confusion_matrix(Y_TRUE, Y_PRED, labels=range(3), normalize="true")
    np.testing.assert_allclose(heatmap_values(fig), expected)


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        ([0, 1, 2], [0, 1]),  # different lengths
        (np.eye(3), np.eye(3)),  # one-hot instead of labels
        ([0, 1, 3], [0, 1, 2]),  # label outside the class names
        ([0, -1, 2], [0, 1, 2]),  # negative label
    ],
    ids=["lengths-differ", "one-hot", "label-too-large", "negative-label"],
)
def test_confusion_matrix_bad_input_raises_value_error(y_true, y_pred):
    with pytest.raises(ValueError):
        plots.plot_confusion_matrix(np.asarray(y_true), np.asarray(y_pred), NAMES)


# --- confused examples -------------------------------------------------------------------------

CONFUSED_TRUE = np.array([0, 1, 0, 1, 0, 2, 1, 0])
CONFUSED_PRED = np.array([1, 0, 1, 1, 1, 2, 0, 0])  # 0→1 at 0, 2, 4; 1→0 at 1, 6


def shown_images(fig: Figure) -> list[float]:
    """The value of the top-left pixel of each image shown, axes with no image left out."""
    return [ax.get_images()[0].get_array()[0, 0] for ax in fig.axes if ax.get_images()]


def test_confused_examples_show_the_first_mistakes_of_each_direction_in_order():
    images = np.arange(8)[:, None, None] * np.ones((8, 3, 3))
    fig = plots.plot_confused_examples(images, CONFUSED_TRUE, CONFUSED_PRED, [(0, 1)], NAMES, 2)
    assert shown_images(fig) == [0, 2, 1, 6]  # row 0→1 stops after 2 of 3; row 1→0 has 2
    assert [ax.get_title() for ax in fig.axes] == ["#0", "#2", "#1", "#6"]


def test_confused_examples_rows_count_all_mistakes_and_leave_missing_slots_empty():
    fig = plots.plot_confused_examples(
        np.zeros((8, 3, 3)), CONFUSED_TRUE, CONFUSED_PRED, [(0, 1, 5)], NAMES, 4
    )
    assert len(fig.axes) == 8
    assert [ax.get_ylabel().split("\n")[2] for ax in fig.axes[::4]] == ["3 images", "2 images"]
    assert [len(ax.get_images()) for ax in fig.axes] == [1, 1, 1, 0, 1, 1, 0, 0]


def test_confused_examples_titles_are_red_and_give_the_probability_of_the_wrong_class():
    probabilities = np.tile([0.25, 0.7, 0.05], (8, 1))
    fig = plots.plot_confused_examples(
        np.zeros((8, 3, 3)), CONFUSED_TRUE, CONFUSED_PRED, [(0, 1)], NAMES, 1, probabilities
    )
    assert [ax.get_title() for ax in fig.axes] == ["#0  p=0.70", "#1  p=0.25"]
    assert mcolors.to_hex(fig.axes[0].title.get_color()) == mcolors.to_hex(plots.WRONG_COLOR)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((8, 9))}, "images must be"),
        ({"y_true": CONFUSED_TRUE[:7]}, "one per image"),
        ({"y_pred": np.eye(3)[CONFUSED_PRED]}, "1-D"),
        ({"pairs": []}, "at least one pair"),
        ({"pairs": [(1, 1)]}, "two different classes"),
        ({"pairs": [(0, 3)]}, "two different classes"),
        ({"n_examples": 0}, "n_examples"),
        ({"probabilities": np.zeros((8, 2))}, "probabilities"),
    ],
    ids=["flat-images", "few-labels", "one-hot-pred", "no-pairs", "same-class",
         "class-too-large", "no-examples", "probabilities-shape"],
)
def test_confused_examples_bad_input_raises_a_clear_value_error(kwargs, message):
    arguments = {"images": np.zeros((8, 3, 3)), "y_true": CONFUSED_TRUE,
                 "y_pred": CONFUSED_PRED, "pairs": [(0, 1)], "class_names": NAMES} | kwargs
    with pytest.raises(ValueError, match=message):
        plots.plot_confused_examples(**arguments)


# --- curves and activations ---------------------------------------------------------------------


def test_learning_curves_draw_validation_line_only_when_present():
    fig = plots.plot_learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
                                      "accuracy": [0.5, 0.8]})
    loss_ax, accuracy_ax = fig.axes
    assert len(loss_ax.get_lines()) == 2
    assert len(accuracy_ax.get_lines()) == 1


def test_learning_curves_accept_a_keras_history_like_object():
    class History:
        history = {"loss": [0.9, 0.4, 0.2]}

    fig = plots.plot_learning_curves(History())
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [1, 2, 3])


def test_learning_curves_without_known_metrics_raise_value_error():
    with pytest.raises(ValueError):
        plots.plot_learning_curves({"mae": [1.0]})


def test_learning_curves_reject_a_non_mapping():
    with pytest.raises(TypeError):
        plots.plot_learning_curves([0.5, 0.4])


def test_loss_curves_draw_one_line_per_label():
    fig = plots.plot_loss_curves({"a": [3, 2], "b": [3, 1], "c": [2, 2]})
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["a", "b", "c"]


def test_loss_curves_log_scale():
    fig = plots.plot_loss_curves({"a": [3, 2]}, log_scale=True)
    assert fig.axes[0].get_yscale() == "log"


@pytest.mark.parametrize("curves", [{}, {"a": []}, {"a": [[1, 2], [3, 4]]}],
                         ids=["no-curves", "empty-curve", "2d-curve"])
def test_loss_curves_bad_input_raises_value_error(curves):
    with pytest.raises(ValueError):
        plots.plot_loss_curves(curves)


def test_activations_draw_the_derivative_as_second_line():
    fig = plots.plot_activations({"tanh": np.tanh}, derivatives={"tanh": numpy_nn.tanh_grad})
    assert [line.get_label() for line in fig.axes[0].get_lines()[:2]] == ["tanh", "tanh'"]


@pytest.mark.parametrize(
    ("functions", "z"),
    [({}, None), ({"relu": numpy_nn.relu}, np.zeros((2, 3)))],
    ids=["no-functions", "2d-z"],
)
def test_activations_bad_input_raises_value_error(functions, z):
    with pytest.raises(ValueError):
        plots.plot_activations(functions, z)


# --- run comparison and layer profile (chapter 6) ------------------------------------------------


def test_run_comparison_draws_one_line_per_run_and_a_shorter_line_for_an_early_stop():
    fig = plots.plot_run_comparison(
        {"a": {"val_loss": [3, 2, 1]}, "b": {"val_loss": [3, 2]}}, keys=("val_loss",))
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert [list(line.get_xdata()) for line in lines] == [[1, 2, 3], [1, 2]]


@pytest.mark.parametrize("n_runs", [1, 3, 7])
def test_run_comparison_legend_names_every_run_once_and_covers_no_panel(n_runs):
    histories = {f"run {i}": {"val_loss": [1.0, 0.5], "val_accuracy": [0.5, 0.9]}
                 for i in range(n_runs)}
    fig = plots.plot_run_comparison(histories)
    (legend,) = fig.legends
    assert [text.get_text() for text in legend.get_texts()] == list(histories)
    assert all(ax.get_legend() is None for ax in fig.axes)
    renderer = fig.canvas.get_renderer()
    top_of_legend = legend.get_window_extent(renderer).y1
    assert all(top_of_legend <= ax.get_tightbbox(renderer).y0 + 1 for ax in fig.axes)


@pytest.mark.parametrize(("key", "label"), [
    ("val_categorical_crossentropy", "validation cross-entropy"),
    ("val_accuracy", "validation accuracy"), ("loss", "loss"),
    ("val_sparse_categorical_crossentropy", "validation cross-entropy")])
def test_panels_are_titled_in_words_not_keras_log_keys(key, label):
    fig = plots.plot_run_comparison({"a": {key: [1.0, 0.5]}}, keys=(key,))
    assert fig.axes[0].get_title() == fig.axes[0].get_ylabel() == label


def test_run_comparison_leaves_a_run_out_of_a_panel_it_has_no_values_for():
    fig = plots.plot_run_comparison(
        {"a": {"val_loss": [1.0], "val_accuracy": [0.5]}, "b": {"val_loss": [1.0]}})
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 1]


def test_run_comparison_accepts_keras_history_like_objects():
    class History:
        history = {"val_accuracy": [0.2, 0.4]}

    fig = plots.plot_run_comparison({"run": History()}, keys=("val_accuracy",))
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), [0.2, 0.4])


@pytest.mark.parametrize(
    ("histories", "error"),
    [({}, ValueError), ({"a": {"loss": [1.0]}}, ValueError), ({"a": [0.5, 0.4]}, TypeError)],
    ids=["no-runs", "no-known-key", "not-a-mapping"],
)
def test_run_comparison_bad_input_raises(histories, error):
    with pytest.raises(error):
        plots.plot_run_comparison(histories)


def test_layer_profile_numbers_layers_from_one_in_the_given_order():
    fig = plots.plot_layer_profile({"net": {"h1": 3.0, "h2": 2.0, "out": 1.0}}, "norm")
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [1, 2, 3]
    assert list(line.get_ydata()) == [3.0, 2.0, 1.0]


def test_layer_profile_linear_scale_accepts_zeros():
    fig = plots.plot_layer_profile({"net": [0.0, 1.0]}, "std", log_scale=False)
    assert fig.axes[0].get_yscale() == "linear"


@pytest.mark.parametrize(
    "profiles", [{}, {"net": []}, {"net": [[1.0, 2.0]]}, {"net": [1.0, 0.0]}],
    ids=["no-profiles", "empty", "2d", "zero-on-log-scale"],
)
def test_layer_profile_bad_input_raises_value_error(profiles):
    with pytest.raises(ValueError):
        plots.plot_layer_profile(profiles, "norm")
