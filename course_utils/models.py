"""Builders for the course's model architectures (chapters 2 and 4).

Every builder returns an uncompiled ``keras.Sequential`` that starts with ``keras.Input`` (the
Keras 3 idiom; ``input_shape=`` on a layer is the old one). Compile with ``course_utils.train``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

__all__ = [
    "baseline_mlp",
    "dense_param_count",
    "intro_regressor",
    "mlp",
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
