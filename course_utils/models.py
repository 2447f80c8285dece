"""Builders for the course's model architectures (chapters 2, 4, 6 and 8).

Every builder returns an uncompiled ``keras.Sequential`` that starts with ``keras.Input`` (the
Keras 3 idiom; ``input_shape=`` on a layer is the old one). Compile with ``course_utils.train``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from course_utils._checks import positive_int

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
    hidden_units: Sequence[int] = (256, 128),
    *,
    input_dim: int = 784,
    n_outputs: int = 10,
    activation: str = "relu",
    output_activation: str | None = "softmax",
    dropout: float = 0.0,
    input_dropout: float = 0.0,
    batch_norm: bool = False,
    l1: float = 0.0,
    l2: float = 0.0,
    kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
    name: str = "mlp",
) -> keras.Sequential:
    """A multilayer perceptron: ``input_dim`` → each of ``hidden_units`` → ``n_outputs`` (ch. 2-6).

    With the defaults it is the chapter 4 network; the options add chapter 6's regularization to
    every hidden layer: ``Dense(kernel_regularizer=L1/L2) → [BatchNormalization] → activation →
    [Dropout(dropout)]``, and ``input_dropout`` on the inputs. ``l1``/``l2`` are the penalty
    factors λ on the hidden kernels (the output layer is not penalised). With ``batch_norm`` the
    hidden Dense layers have no bias: the normalisation subtracts the batch mean, which cancels
    any bias, and its offset β takes the bias's role.
    """
    positive_int(input_dim, "input_dim")
    positive_int(n_outputs, "n_outputs")
    for i, units in enumerate(hidden_units):
        positive_int(units, f"hidden_units[{i}]")
    for label, rate in (("dropout", dropout), ("input_dropout", input_dropout)):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{label} is the fraction of units dropped, in [0, 1); got {rate!r}")
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty factors must be non-negative, got l1={l1!r}, l2={l2!r}")
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if l1 and l2 else \
        keras.regularizers.L1(l1) if l1 else keras.regularizers.L2(l2) if l2 else None

    layers: list[keras.layers.Layer] = [keras.Input(shape=(input_dim,), name="features")]
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout, name="input_dropout"))
    for i, units in enumerate(hidden_units, start=1):
        layers.append(keras.layers.Dense(
            units,
            activation=None if batch_norm else activation,
            use_bias=not batch_norm,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=regularizer,
            name=f"hidden_{i}",
        ))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"batch_norm_{i}"))
            layers.append(keras.layers.Activation(activation, name=f"{activation}_{i}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(keras.layers.Dense(n_outputs, activation=output_activation,
                                     kernel_initializer=kernel_initializer, name="output"))
    return keras.Sequential(layers, name=name)


def baseline_mlp() -> keras.Sequential:
    """784-256-128-10, ReLU and softmax: the chapter 4 baseline (235,146 parameters)."""
    return mlp((256, 128), name="baseline_mlp")


def small_mlp() -> keras.Sequential:
    """784-32-10, the smallest introductory variant (25,450 parameters)."""
    return mlp((32,), name="small_mlp")


def two_hidden_mlp() -> keras.Sequential:
    """784-64-32-10, the variant trained with ``validation_data`` (52,650 parameters)."""
    return mlp((64, 32), name="two_hidden_mlp")


def intro_regressor() -> keras.Sequential:
    """Input(20) → Dense(64, relu) → Dense(10), the chapter 2 first model (1,994 parameters)."""
    return mlp((64,), input_dim=20, output_activation=None, name="intro_regressor")


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
        positive_int(units, f"filters[{i}]")
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
    positive_int(n_outputs, "n_outputs")
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
