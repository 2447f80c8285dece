"""Plotting helpers, one figure per function (chapter 1: activations; chapter 3: images and
class balance; chapters 4–5: training and evaluation; chapter 6: comparing runs and layers).

Each function returns the ``matplotlib.figure.Figure`` it drew, so notebooks can show it and
tests can inspect its axes. Inputs are checked first and a wrong shape gets a clear error.

Figures are drawn for the book's text column: at most ``COLUMN_WIDTH`` inches wide, at most two
panels side by side, and text in ``BOOK_STYLE``'s sizes, so that they stay legible when a phone
shows them at a fraction of their size.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from course_utils import metrics
from course_utils._checks import positive_int

__all__ = [
    "BOOK_STYLE",
    "COLUMN_WIDTH",
    "RIGHT_COLOR",
    "RIGHT_MARK",
    "SMALL_TEXT",
    "WRONG_COLOR",
    "WRONG_MARK",
    "book_style",
    "metric_label",
    "plot_activations",
    "plot_class_counts",
    "plot_confused_examples",
    "plot_confusion_matrix",
    "plot_image_grid",
    "plot_layer_profile",
    "plot_learning_curves",
    "plot_loss_curves",
    "plot_prediction_grid",
    "plot_run_comparison",
]

RIGHT_COLOR = "green"
WRONG_COLOR = "#c00000"  # a dark red: small titles keep a 4.5:1 contrast on white
RIGHT_MARK, WRONG_MARK = "✓", "✗"  # right and wrong are not told by colour alone
COLUMN_WIDTH = 6.4  # inches: the book's text column at the inline backend's 100 dpi
BOOK_STYLE = {"font.size": 12, "axes.titlesize": 12, "axes.labelsize": 12,
              "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11}
SMALL_TEXT = 10  # titles over small images, where BOOK_STYLE's sizes do not fit
NARROW_CELL = 0.9  # inches: image cells narrower than this get their titles on two lines


@contextlib.contextmanager
def book_style() -> Iterator[None]:
    """BOOK_STYLE's text sizes for the figures drawn inside; afterwards, only they are restored.

    plt.rc_context would restore every setting, and so also undo what the notebook's inline
    backend sets when the first figure starts it: later figures would no longer be shown.
    """
    saved = {key: plt.rcParams[key] for key in BOOK_STYLE}
    plt.rcParams.update(BOOK_STYLE)
    try:
        yield
    finally:
        plt.rcParams.update(saved)


def _book_style(plot: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw with BOOK_STYLE's text sizes (a plotting function's decorator)."""

    @functools.wraps(plot)
    def styled(*args: Any, **kwargs: Any) -> Figure:
        with book_style():
            return plot(*args, **kwargs)

    return styled


def metric_label(key: str) -> str:
    """A Keras log key as words for a panel: ``val_categorical_crossentropy`` → ``validation
    cross-entropy``."""
    words = key.removeprefix("val_").replace("categorical_crossentropy", "cross-entropy")
    words = words.replace("sparse_", "").replace("_", " ")
    return f"validation {words}" if key.startswith("val_") else words


def _panels(n: int, height: float) -> tuple[Figure, list[Any]]:
    """A column-wide figure of ``n`` panels one above the other, each ``height`` inches tall: on
    a phone each panel is as wide as the screen, not half of it."""
    fig, axes = plt.subplots(n, 1, figsize=(COLUMN_WIDTH, height * n), squeeze=False)
    return fig, list(axes.flat)


@_book_style
def plot_activations(
    functions: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    z: np.ndarray | None = None,
    derivatives: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
) -> Figure:
    """One panel per activation function over ``z`` (default −5…5), with its derivative if given."""
    if not functions:
        raise ValueError("give at least one activation function to plot")
    z = np.linspace(-5, 5, 401) if z is None else np.asarray(z, dtype=float)
    if z.ndim != 1:
        raise ValueError(f"z must be one-dimensional, got shape {z.shape}")
    fig, axes = _panels(len(functions), 2.4)
    for ax, (name, function) in zip(axes, functions.items()):
        ax.plot(z, function(z), label=name, linewidth=2)
        if derivatives and name in derivatives:
            ax.plot(z, derivatives[name](z), "--", label=f"{name}'")
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.axvline(0, color="gray", linewidth=0.5)
        ax.set_title(name)
        ax.set_xlabel("z")
        ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


@_book_style
def plot_image_grid(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    n_rows: int = 3,
    n_cols: int = 8,
) -> Figure:
    """The first ``n_rows × n_cols`` images, each titled with its class name (chapter 3)."""
    images, labels = np.asarray(images), np.asarray(labels)
    n = n_rows * n_cols
    if images.ndim != 3:
        raise ValueError(
            f"images must be (n, height, width), got shape {images.shape}; reshape flat rows "
            "first, e.g. images.reshape(-1, 28, 28)"
        )
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be 1-D integer class labels (argmax one-hot rows first), got shape "
            f"{labels.shape} and dtype {labels.dtype}"
        )
    if n < 1 or len(images) < n or len(labels) < n:
        raise ValueError(
            f"a {n_rows}×{n_cols} grid needs {n} images and labels; got {len(images)} images "
            f"and {len(labels)} labels"
        )
    if labels[:n].min() < 0 or labels[:n].max() >= len(class_names):
        raise ValueError(f"a label is outside the {len(class_names)} class names")
    cell = COLUMN_WIDTH / n_cols
    # each row: the image and up to two lines of title above it
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(COLUMN_WIDTH, (cell + 0.45) * n_rows),
                             squeeze=False)
    for ax, image, label in zip(axes.flat, images, labels):
        ax.imshow(image, cmap="gray_r")
        title = class_names[label]
        if cell < NARROW_CELL:  # "Ankle boot" -> "Ankle / boot" on two lines
            title = title.replace(" ", "\n").replace("/", "/\n")
        ax.set_title(title, fontsize=SMALL_TEXT)
        ax.axis("off")
    fig.tight_layout()
    return fig


@_book_style
def plot_class_counts(
    splits: Mapping[str, np.ndarray],
    class_names: Sequence[str],
    normalize: bool = False,
) -> Figure:
    """Examples per class as grouped horizontal bars, one colour per split (chapter 3).

    ``splits`` maps a name to that split's integer labels, e.g. ``{"training": y_train,
    "test": y_test}``. With ``normalize=True`` each bar is the class's fraction of its split,
    so splits of different sizes can be compared.
    """
    if not splits:
        raise ValueError("give at least one split, e.g. {'training': y_train}")
    k = len(class_names)
    counts = {}
    for name, labels in splits.items():
        labels = np.asarray(labels)
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or len(labels) == 0:
            raise ValueError(
                f"split {name!r}: labels must be a non-empty 1-D integer array, got shape "
                f"{labels.shape} and dtype {labels.dtype}"
            )
        if labels.min() < 0 or labels.max() >= k:
            raise ValueError(f"split {name!r}: labels must lie in 0..{k - 1}")
        counts[name] = np.bincount(labels, minlength=k)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 0.2 * k * max(len(splits), 2) + 1.6))
    height = 0.8 / len(counts)
    for offset, (name, values) in enumerate(counts.items()):
        total = int(values.sum())
        ax.barh(
            np.arange(k) + (offset - (len(counts) - 1) / 2) * height,
            values / total if normalize else values,
            height=height,
            label=f"{name} ({total:,} images)",
        )
    ax.set_yticks(np.arange(k), list(class_names))
    ax.invert_yaxis()  # class 0 at the top, like a table
    ax.set_xlabel("fraction of the split" if normalize else "number of images")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)  # above the bars
    fig.tight_layout()
    return fig


@_book_style
def plot_learning_curves(history: Any, metrics: Sequence[str] = ("loss", "accuracy")) -> Figure:
    """Training and validation curves per epoch, one panel per metric.

    ``history`` is a ``keras.callbacks.History`` or a mapping such as ``{"loss": [...],
    "val_loss": [...]}``. Metrics absent from the history are skipped.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(f"expected a keras History or a mapping, got {type(history).__name__}")
    present = [m for m in metrics if m in logs]
    if not present:
        raise ValueError(f"none of {list(metrics)} is in the history (it has {sorted(logs)})")
    fig, axes = _panels(len(present), 2.6)
    for ax, metric in zip(axes, present):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], "o-", label="training")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s-", label="validation")
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    fig.tight_layout()
    return fig


@_book_style
def plot_loss_curves(
    curves: Mapping[str, Sequence[float]], xlabel: str = "step", log_scale: bool = False
) -> Figure:
    """Several loss curves on one axis, one line per label (e.g. SGD versus Adam)."""
    if not curves:
        raise ValueError("give at least one named curve")
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.5))
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(f"curve {label!r} must be a non-empty 1-D sequence")
        ax.plot(np.arange(len(values)), values, label=label)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    return fig


@_book_style
def plot_prediction_grid(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    n_rows: int = 5,
    n_cols: int = 5,
) -> Figure:
    """The first ``n_rows × n_cols`` images titled "predicted / true": ✓ in green when right,
    ✗ in red when wrong."""
    images, y_true, y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
    n = n_rows * n_cols
    if images.ndim != 3:
        raise ValueError(f"images must be (n, height, width), got shape {images.shape}")
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D integer labels (argmax one-hot labels or "
            f"probabilities first), got shapes {y_true.shape} and {y_pred.shape}"
        )
    if len(images) < n or len(y_true) < n or len(y_pred) < n:
        raise ValueError(
            f"a {n_rows}×{n_cols} grid needs {n} images and labels; got {len(images)} images, "
            f"{len(y_true)} true and {len(y_pred)} predicted labels"
        )
    labels = np.concatenate([y_true[:n], y_pred[:n]])
    if labels.min() < 0 or labels.max() >= len(class_names):
        raise ValueError(f"a label is outside the {len(class_names)} class names")
    cell = COLUMN_WIDTH / n_cols
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(COLUMN_WIDTH, 1.45 * cell * n_rows),
                             squeeze=False)
    for ax, image, true, pred in zip(axes.flat, images, y_true, y_pred):
        ax.imshow(image, cmap="gray_r")
        mark, color = (RIGHT_MARK, RIGHT_COLOR) if true == pred else (WRONG_MARK, WRONG_COLOR)
        ax.set_title(f"{mark} {class_names[pred]}\n/ {class_names[true]}", color=color,
                     fontsize=SMALL_TEXT)
        ax.axis("off")
    fig.tight_layout()
    return fig


@_book_style
def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    normalize: bool = False,
) -> Figure:
    """Confusion matrix as a seaborn heatmap: rows are true classes, columns predicted ones."""
    import seaborn as sns

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"need two 1-D label arrays of one length, got {y_true.shape}, {y_pred.shape}"
        )
    k = len(class_names)
    labels = np.concatenate([y_true, y_pred])
    if len(labels) and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    counts = metrics.confusion_matrix(y_true, y_pred, n_classes=k)
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 0.9 * COLUMN_WIDTH))
    sns.heatmap(
        values, annot=True, fmt=".2f" if normalize else "d", cmap="Blues", cbar=False,
        xticklabels=class_names, yticklabels=class_names, ax=ax,
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return fig


@_book_style
def plot_confused_examples(
    images: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    pairs: Sequence[Sequence[int]],
    class_names: Sequence[str],
    n_examples: int = 6,
    probabilities: np.ndarray | None = None,
) -> Figure:
    """Mistakes of each class pair, both directions, one row per direction (chapter 5).

    For a pair ``(a, b)`` (extra items such as a count are ignored, so the output of
    ``metrics.most_confused_pairs`` fits) the first row shows the first ``n_examples`` images of
    true class ``a`` predicted as ``b``, the second row those of ``b`` predicted as ``a``; each
    row is labelled with both classes and how many such images there are. Titles give an image's
    index and, with ``probabilities`` (one row per image), the probability of the wrong answer.
    """
    images, y_true, y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
    if images.ndim != 3:
        raise ValueError(f"images must be (n, height, width), got shape {images.shape}")
    if y_true.ndim != 1 or y_pred.ndim != 1 or not len(images) == len(y_true) == len(y_pred):
        raise ValueError(
            f"y_true and y_pred must be 1-D integer labels, one per image: got shapes "
            f"{y_true.shape} and {y_pred.shape} for {len(images)} images"
        )
    if probabilities is not None:
        probabilities = np.asarray(probabilities)
        if probabilities.shape != (len(images), len(class_names)):
            raise ValueError(
                f"probabilities must be (n_images, n_classes) = ({len(images)}, "
                f"{len(class_names)}), got shape {probabilities.shape}"
            )
    positive_int(n_examples, "n_examples")
    k = len(class_names)
    directions = []
    for pair in pairs:
        a, b = int(pair[0]), int(pair[1])
        if a == b or not (0 <= a < k and 0 <= b < k):
            raise ValueError(f"pair {tuple(pair)}: need two different classes in 0..{k - 1}")
        directions += [(a, b), (b, a)]
    if not directions:
        raise ValueError("give at least one pair of classes, e.g. [(0, 6)]")
    fig, axes = plt.subplots(
        len(directions), n_examples,
        figsize=(COLUMN_WIDTH, 1.4 * (COLUMN_WIDTH - 2) / n_examples * len(directions) + 0.4),
        squeeze=False,
    )
    for row, (true, pred) in zip(axes, directions):
        indices = np.flatnonzero((y_true == true) & (y_pred == pred))
        row[0].set_ylabel(
            f"true: {class_names[true]}\npredicted: {class_names[pred]}\n{len(indices)} images",
            rotation=0, ha="right", va="center", fontsize=SMALL_TEXT,
        )
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
        for ax, index in zip(row, indices):
            ax.imshow(images[index], cmap="gray_r")
            title = f"#{index}"
            if probabilities is not None:
                title += f"  p={probabilities[index, pred]:.2f}"
            ax.set_title(title, color=WRONG_COLOR, fontsize=SMALL_TEXT)
    fig.tight_layout()
    return fig


@_book_style
def plot_run_comparison(
    histories: Mapping[str, Any], keys: Sequence[str] = ("val_loss", "val_accuracy")
) -> Figure:
    """One panel per logged quantity, one line per run: several models compared (chapter 6).

    ``histories`` maps a run's name to its ``keras.callbacks.History`` or its ``history``
    mapping. A run stopped early draws a shorter line; a run that lacks a key is left out of
    that panel.
    """
    if not histories:
        raise ValueError("give at least one named run, e.g. {'baseline': history}")
    logs = {name: getattr(run, "history", run) for name, run in histories.items()}
    for name, log in logs.items():
        if not isinstance(log, Mapping):
            raise TypeError(f"run {name!r}: expected a keras History or a mapping, "
                            f"got {type(log).__name__}")
    present = [key for key in keys if any(key in log for log in logs.values())]
    if not present:
        raise ValueError(f"no run has any of {list(keys)}")
    fig, axes = _panels(len(present), 2.8)
    for ax, key in zip(axes, present):
        for name, log in logs.items():
            if key in log:
                ax.plot(np.arange(1, len(log[key]) + 1), log[key], label=name)
        ax.set_title(metric_label(key))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric_label(key))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # one legend for all panels, in its own strip below them, so that it covers no curve
    lines = {line.get_label(): line for ax in axes for line in ax.get_lines()}
    columns = min(len(lines), 2)
    legend_inches = 0.25 * -(-len(lines) // columns) + 0.15
    fig.set_figheight(fig.get_figheight() + legend_inches)
    fig.legend(lines.values(), lines.keys(), loc="lower center", ncol=columns, frameon=False)
    fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))
    return fig


@_book_style
def plot_layer_profile(
    profiles: Mapping[str, Sequence[float] | Mapping[str, float]],
    ylabel: str,
    log_scale: bool = True,
) -> Figure:
    """A quantity per layer, one line per network; layer 1 is next to the input (chapter 6).

    Each value of ``profiles`` lists one number per layer, in order, or maps layer names to
    numbers (as ``regularization.gradient_norms`` returns). Log scale by default, because
    gradients and activations change by factors from layer to layer.
    """
    if not profiles:
        raise ValueError("give at least one named profile")
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.8))
    for name, values in profiles.items():
        values = np.asarray(list(values.values()) if isinstance(values, Mapping) else values,
                            dtype=float)
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(f"profile {name!r} must hold one number per layer")
        if log_scale and np.any(values <= 0):
            raise ValueError(f"profile {name!r} has values <= 0, which a log scale cannot show")
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=name)
    if log_scale:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    return fig
