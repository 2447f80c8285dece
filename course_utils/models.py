"""Builders for the course's model architectures (chapters 2, 4 and 8).

Every builder returns an uncompiled ``keras.Sequential`` that starts with ``keras.Input`` (the
Keras 3 idiom; ``input_shape=`` on a layer is the old one). Compile with ``course_utils.train``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

__all__ = [
    "baseline_mlp",
    "classifier_on",
    "conv_base",
    "dense_param_count",
    "intro_regressor",
    "mlp",
    "small_cnn",
    "small_mlp",
    "two_hidden_mlp",
]


def mlp(
    input_dim: int,
    hidden_units: Sequence[int],
    n_outputs: int,
    *,
    activation: str = "relu",
    output_activation: str | None = "softmax",
    name: str = "mlp",
) -> keras.Sequential:
    """A multilayer perceptron: ``input_dim`` → each of ``hidden_units`` → ``n_outputs``."""
    for label, value in [("input_dim", input_dim), ("n_outputs", n_outputs), *(
        (f"hidden_units[{i}]", units) for i, units in enumerate(hidden_units)
    )]:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    layers: list[keras.layers.Layer] = [keras.Input(shape=(input_dim,), name="features")]
    layers += [
        keras.layers.Dense(units, activation=activation, name=f"hidden_{i + 1}")
        for i, units in enumerate(hidden_units)
    ]
    layers.append(keras.layers.Dense(n_outputs, activation=output_activation, name="output"))
    return keras.Sequential(layers, name=name)


def baseline_mlp() -> keras.Sequential:
    """784-256-128-10, ReLU and softmax: the chapter 4 baseline (235,146 parameters)."""
    return mlp(784, (256, 128), 10, name="baseline_mlp")


def small_mlp() -> keras.Sequential:
    """784-32-10, the smallest introductory variant (25,450 parameters)."""
    return mlp(784, (32,), 10, name="small_mlp")


def two_hidden_mlp() -> keras.Sequential:
    """784-64-32-10, the variant trained with ``validation_data`` (52,650 parameters)."""
    return mlp(784, (64, 32), 10, name="two_hidden_mlp")


def intro_regressor() -> keras.Sequential:
    """Input(20) → Dense(64, relu) → Dense(10), the chapter 2 first model (1,994 parameters)."""
    return mlp(20, (64,), 10, output_activation=None, name="intro_regressor")


def dense_param_count(layer_sizes: Sequence[int]) -> int:
    """Parameters of a stack of Dense layers: sum of (inputs + 1 bias) × outputs per layer."""
    if len(layer_sizes) < 2 or any(int(size) < 1 for size in layer_sizes):
        raise ValueError(f"need at least two positive layer sizes, got {list(layer_sizes)}")
    return sum((n_in + 1) * n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:]))


def conv_base(
    filters: Sequence[int] = (32, 64),
    *,
    input_shape: tuple[int, int, int] = (28, 28, 1),
    batch_norm: bool = True,
    name: str = "conv_base",
) -> keras.Sequential:
    """Feature extractor of the chapter 8 CNN: one block per entry of ``filters``, then Flatten.

    A block is ``Conv2D(f, 3×3, valid)`` → ``BatchNormalization`` (if ``batch_norm``; the
    convolution then has no bias, which the normalisation would cancel) → ReLU → ``MaxPooling2D``
    (2×2). On 28×28 images two blocks give 26 → 13 → 11 → 5: a 5×5×``filters[-1]`` feature map.
    """
    if not filters:
        raise ValueError("give at least one number of filters, e.g. (32, 64)")
    for i, units in enumerate(filters):
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise ValueError(f"filters[{i}] must be a positive int, got {units!r}")
    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape, name="images")]
    for i, units in enumerate(filters, start=1):
        layers.append(keras.layers.Conv2D(units, 3, use_bias=not batch_norm, name=f"conv_{i}"))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
        layers += [keras.layers.ReLU(name=f"relu_{i}"), keras.layers.MaxPooling2D(name=f"pool_{i}")]
    layers.append(keras.layers.Flatten(name="flatten"))
    return keras.Sequential(layers, name=name)


def classifier_on(
    base: keras.Model, n_outputs: int, *, dropout: float = 0.0, name: str = "classifier"
) -> keras.Sequential:
    """``base`` (its layers shared, not copied) → [Dropout] → Dense(n_outputs, softmax) (chapter 8).

    The transfer-learning idiom: freeze ``base`` with ``base.trainable = False`` and train only
    the new head; the same ``base`` object can carry several heads.
    """
    if not isinstance(n_outputs, int) or isinstance(n_outputs, bool) or n_outputs < 1:
        raise ValueError(f"n_outputs must be a positive int, got {n_outputs!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
    layers: list[keras.layers.Layer] = [keras.Input(shape=base.input_shape[1:], name="images")]
    layers.append(base)
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(keras.layers.Dense(n_outputs, activation="softmax", name="output"))
    return keras.Sequential(layers, name=name)


def small_cnn(
    filters: Sequence[int] = (32, 64),
    n_outputs: int = 10,
    *,
    batch_norm: bool = True,
    dropout: float = 0.3,
    name: str = "small_cnn",
) -> keras.Sequential:
    """The chapter 8 CNN for 28×28×1 images: ``conv_base(filters)`` and a softmax head on it."""
    base = conv_base(filters, batch_norm=batch_norm)
    return classifier_on(base, n_outputs, dropout=dropout, name=name)
