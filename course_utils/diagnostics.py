"""Looking inside a network: gradient norms and activation spreads per layer (chapter 6).

``gradient_norms`` shows vanishing gradients (a deep sigmoid stack against a ReLU one);
``activation_stds`` shows how an initialisation scales the signal layer by layer.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["activation_stds", "gradient_norms"]


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
