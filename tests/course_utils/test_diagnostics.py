"""Tests of course_utils.diagnostics: gradient norms and activation spreads per layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import diagnostics, models

RNG = np.random.default_rng(0)
X = RNG.random((16, 6)).astype("float32")
Y = np.eye(3, dtype="float32")[RNG.integers(0, 3, size=16)]


def tiny(**kwargs) -> keras.Sequential:
    return models.mlp((5, 4), input_dim=6, n_outputs=3, **kwargs)


def test_gradient_norms_name_each_dense_layer_from_input_to_output():
    norms = diagnostics.gradient_norms(tiny(batch_norm=True), X, Y)
    assert list(norms) == ["hidden_1", "hidden_2", "output"]
    assert all(value > 0 for value in norms.values())


def test_gradient_norms_equal_a_gradient_tape_computed_by_hand():
    model = tiny()
    kernels = [layer.kernel for layer in model.layers]
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy()(Y, model(X, training=True))
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    assert list(diagnostics.gradient_norms(model, X, Y).values()) == pytest.approx(expected)


def test_gradient_norms_leave_the_weights_unchanged():
    model = tiny()
    before = [w.numpy().copy() for w in model.weights]
    diagnostics.gradient_norms(model, X, Y)
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, new.numpy())


def test_gradient_norms_use_the_given_loss():
    model = tiny()
    labels = Y.argmax(axis=1)
    sparse = diagnostics.gradient_norms(
        model, X, labels, loss=keras.losses.SparseCategoricalCrossentropy())
    assert list(sparse.values()) == pytest.approx(
        list(diagnostics.gradient_norms(model, X, Y).values()), rel=1e-5)


@pytest.mark.parametrize(("x", "y"), [(X, Y[:5]), (X[:0], Y[:0])], ids=["lengths", "empty"])
def test_gradient_norms_bad_batch_raises_value_error(x, y):
    with pytest.raises(ValueError):
        diagnostics.gradient_norms(tiny(), x, y)


def test_gradient_norms_need_a_dense_layer():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Activation("relu")])
    with pytest.raises(ValueError, match="no Dense layer"):
        diagnostics.gradient_norms(model, X, X)


def test_activation_stds_are_the_spread_of_each_hidden_output():
    model = tiny()
    first, second = model.layers[0], model.layers[1]
    h1 = keras.ops.convert_to_numpy(first(X))
    h2 = keras.ops.convert_to_numpy(second(h1))
    stds = diagnostics.activation_stds(model, X)
    assert list(stds) == ["hidden_1", "hidden_2"]
    assert list(stds.values()) == pytest.approx([h1.std(), h2.std()], rel=1e-5)


def test_activation_stds_of_a_zero_initialised_network_are_zero():
    stds = diagnostics.activation_stds(tiny(kernel_initializer="zeros"), X)
    assert list(stds.values()) == [0.0, 0.0]


def test_activation_stds_need_a_hidden_layer():
    with pytest.raises(ValueError, match="no hidden Dense layer"):
        diagnostics.activation_stds(models.mlp((), input_dim=6, n_outputs=3), X)
