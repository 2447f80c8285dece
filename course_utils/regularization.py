"""Regularized networks and training diagnostics (chapter 6).

``regularized_mlp`` builds every network of chapter 6 from one set of knobs, so that a
comparison changes one thing at a time. With all of them off it is the chapter 4 architecture
(``regularized_mlp()`` has the 235,146 parameters of ``models.baseline_mlp()``); each knob adds
one technique to every hidden layer::

    Dense(units, kernel_regularizer=L1/L2) → [BatchNormalization] → Activation → [Dropout(rate)]

With ``batch_norm=True`` the Dense layers have no bias: BatchNormalization subtracts the batch
mean, which cancels any bias, and its own offset β takes the bias's role.

``gradient_norms`` and ``activation_stds`` look inside a network before or during training
(vanishing gradients, weight initialisation); ``TimeBudget`` stops ``fit`` before a time limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import numpy as np

__all__ = [
    "TimeBudget",
    "activation_stds",
    "gradient_norms",
    "regularized_mlp",
]


def _positive_int(value: object, label: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{label} must be a positive int, got {value!r}")


def regularized_mlp(
    hidden_units: Sequence[int] = (256, 128),
    *,
    input_dim: int = 784,
    n_outputs: int = 10,
    dropout: float = 0.0,
    input_dropout: float = 0.0,
    batch_norm: bool = False,
    l1: float = 0.0,
    l2: float = 0.0,
    activation: str = "relu",
    kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
    name: str = "regularized_mlp",
) -> keras.Sequential:
    """An MLP whose hidden layers can carry L1/L2 penalties, BatchNormalization and Dropout.

    ``dropout`` is the rate (fraction of units dropped) after every hidden layer and
    ``input_dropout`` the rate on the input pixels (Hinton et al. 2012 used 0.5 and 0.2); ``l1`` and
    ``l2`` are the penalty factors λ on each hidden kernel (the output layer is not penalised);
    ``kernel_initializer`` applies to every Dense layer. Returns an uncompiled model.
    """
    _positive_int(input_dim, "input_dim")
    _positive_int(n_outputs, "n_outputs")
    for i, units in enumerate(hidden_units):
        _positive_int(units, f"hidden_units[{i}]")
    for label, rate in (("dropout", dropout), ("input_dropout", input_dropout)):
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{label} is the fraction of units dropped, in [0, 1); got {rate!r}")
    if l1 < 0 or l2 < 0:
        raise ValueError(f"penalty factors must be non-negative, got l1={l1!r}, l2={l2!r}")
    regularizer = None
    if l1 and l2:
        regularizer = keras.regularizers.L1L2(l1=l1, l2=l2)
    elif l1:
        regularizer = keras.regularizers.L1(l1)
    elif l2:
        regularizer = keras.regularizers.L2(l2)

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
    layers.append(keras.layers.Dense(
        n_outputs, activation="softmax", kernel_initializer=kernel_initializer, name="output"
    ))
    return keras.Sequential(layers, name=name)


def _dense_layers(model: keras.Model) -> list[keras.layers.Dense]:
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError(f"model {model.name!r} has no Dense layer")
    return dense


def gradient_norms(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    loss: keras.losses.Loss | None = None,
) -> dict[str, float]:
    """L2 norm of the loss gradient with respect to each Dense kernel, from input to output.

    One forward and backward pass on the batch ``(x, y)`` under ``tf.GradientTape``, with the
    model in training mode (Dropout active, BatchNormalization on batch statistics). ``loss``
    defaults to categorical cross-entropy on one-hot ``y``. The weights are not changed.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"need a non-empty batch with as many labels as inputs, got "
                         f"{len(x)} inputs and {len(y)} labels")
    loss = loss or keras.losses.CategoricalCrossentropy()
    kernels = [layer.kernel for layer in _dense_layers(model)]
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    gradients = tape.gradient(value, kernels)
    return {
        layer.name: float(tf.norm(gradient))
        for layer, gradient in zip(_dense_layers(model), gradients)
    }


def activation_stds(model: keras.Model, x: np.ndarray) -> dict[str, float]:
    """Standard deviation of each hidden Dense layer's output on ``x`` (inference mode).

    For a network without BatchNormalization that is the spread of each layer's activations;
    the output layer is left out. Shows how an initialisation scales signals layer by layer.
    """
    hidden = _dense_layers(model)[:-1]
    if not hidden:
        raise ValueError(f"model {model.name!r} has no hidden Dense layer")
    probe = keras.Model(model.inputs[0], [layer.output for layer in hidden])
    outputs = probe(np.asarray(x), training=False)
    return {
        layer.name: float(np.std(keras.ops.convert_to_numpy(output)))
        for layer, output in zip(hidden, outputs)
    }


class TimeBudget(keras.callbacks.Callback):
    """Stops ``fit`` when another epoch would likely overrun ``seconds`` of training.

    After each epoch it compares the time used so far plus the longest epoch seen so far with
    the budget. ``self.elapsed`` holds the seconds used and ``self.stopped`` whether the budget
    ended the training.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"the budget must be a positive number of seconds, got {seconds!r}")
        self.seconds = float(seconds)
        self.elapsed = 0.0
        self.stopped = False
        self._start = self._epoch_start = 0.0
        self._longest_epoch = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self.elapsed, self.stopped, self._longest_epoch = 0.0, False, 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        self._longest_epoch = max(self._longest_epoch, now - self._epoch_start)
        self.elapsed = now - self._start
        if self.elapsed + self._longest_epoch > self.seconds:
            self.stopped = True
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self.elapsed = time.perf_counter() - self._start
