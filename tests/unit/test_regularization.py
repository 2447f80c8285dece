"""Tests of course_utils.regularization: the regularized MLP builder, gradient and activation
diagnostics, the training time budget."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import models, regularization

RNG = np.random.default_rng(0)
X = RNG.random((16, 6)).astype("float32")
Y = np.eye(3, dtype="float32")[RNG.integers(0, 3, size=16)]


def tiny(**kwargs) -> keras.Sequential:
    return regularization.regularized_mlp((5, 4), input_dim=6, n_outputs=3, **kwargs)


def layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


# --- regularized_mlp -----------------------------------------------------------------------------


def test_default_is_the_chapter_4_baseline_architecture():
    model = regularization.regularized_mlp()
    assert model.count_params() == models.baseline_mlp().count_params() == 235_146
    assert layer_types(model) == ["Dense"] * 3
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "relu", "softmax"]


def test_starts_with_keras_input_and_emits_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = regularization.regularized_mlp()
    assert isinstance(model._layers[0], keras.layers.InputLayer)
    assert model.input_shape == (None, 784)


def test_returns_an_uncompiled_model():
    assert not tiny(dropout=0.3).compiled


def test_batch_norm_and_dropout_follow_dense_bn_activation_dropout():
    model = tiny(batch_norm=True, dropout=0.3)
    assert layer_types(model) == [
        "Dense", "BatchNormalization", "Activation", "Dropout",
        "Dense", "BatchNormalization", "Activation", "Dropout", "Dense",
    ]
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] \
        == [0.3, 0.3]


def test_batch_norm_drops_the_dense_bias_and_adds_four_numbers_per_unit():
    model = regularization.regularized_mlp(batch_norm=True)
    hidden = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    assert all(not layer.use_bias for layer in hidden)
    # 784·256 + 4·256 (γ, β, moving mean, moving variance) + 256·128 + 4·128 + (128 + 1)·10
    assert model.count_params() == 784 * 256 + 4 * 256 + 256 * 128 + 4 * 128 + 129 * 10
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == 2 * (256 + 128)


def test_input_dropout_is_the_first_layer():
    model = tiny(input_dropout=0.2)
    assert model.layers[0].name == "input_dropout"
    assert model.layers[0].rate == 0.2


def test_l2_penalty_is_lambda_times_sum_of_squared_hidden_kernels():
    model = tiny(l2=0.01)
    model(X)
    hidden = model.layers[:-1]
    expected = sum(0.01 * np.sum(layer.kernel.numpy() ** 2)
                   for layer in hidden)
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_l1_penalty_is_lambda_times_sum_of_absolute_hidden_kernels():
    model = tiny(l1=0.01)
    model(X)
    expected = sum(0.01 * np.sum(np.abs(layer.kernel.numpy()))
                   for layer in model.layers[:-1])
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_l1_and_l2_together_add_both_penalties():
    model = tiny(l1=0.01, l2=0.02)
    model(X)
    kernels = [layer.kernel.numpy() for layer in model.layers[:-1]]
    expected = sum(0.01 * np.abs(k).sum() + 0.02 * (k**2).sum() for k in kernels)
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


def test_output_layer_and_biases_are_not_penalised():
    model = tiny(l2=0.01)
    assert model.layers[-1].kernel_regularizer is None
    assert all(layer.bias_regularizer is None for layer in model.layers)


def test_without_penalties_there_is_no_extra_loss():
    model = tiny(dropout=0.2, batch_norm=True)
    model(X)
    assert model.losses == []


def test_dropout_is_random_in_training_and_off_at_inference():
    model = tiny(dropout=0.5)
    inference = [keras.ops.convert_to_numpy(model(X, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(*inference)
    training = keras.ops.convert_to_numpy(model(X, training=True))
    assert not np.allclose(training, inference[0])


def test_kernel_initializer_reaches_every_dense_layer():
    model = tiny(kernel_initializer="zeros")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert all(not layer.kernel.numpy().any() for layer in dense)


def test_activation_is_used_in_every_hidden_layer():
    model = tiny(activation="sigmoid")
    assert [layer.activation.__name__ for layer in model.layers] == [
        "sigmoid", "sigmoid", "softmax"]
    with_bn = tiny(activation="tanh", batch_norm=True)
    assert [layer.name for layer in with_bn.layers if "tanh" in layer.name] == ["tanh_1", "tanh_2"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dropout": 1.0}, {"dropout": -0.1}, {"input_dropout": 1.5}, {"l2": -1e-3},
        {"l1": -1e-3}, {"hidden_units": (8, 0)}, {"hidden_units": (8.0,)}, {"input_dim": 0},
        {"n_outputs": True},
    ],
    ids=["dropout-one", "dropout-negative", "input-dropout-too-large", "l2-negative",
         "l1-negative", "zero-units", "float-units", "zero-inputs", "bool-outputs"],
)
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        regularization.regularized_mlp(**kwargs)


# --- gradient_norms and activation_stds -----------------------------------------------------------


def test_gradient_norms_name_each_dense_layer_from_input_to_output():
    norms = regularization.gradient_norms(tiny(batch_norm=True), X, Y)
    assert list(norms) == ["hidden_1", "hidden_2", "output"]
    assert all(value > 0 for value in norms.values())


def test_gradient_norms_equal_a_gradient_tape_computed_by_hand():
    model = tiny()
    kernels = [layer.kernel for layer in model.layers]
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy()(Y, model(X, training=True))
    expected = [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
    assert list(regularization.gradient_norms(model, X, Y).values()) == pytest.approx(expected)


def test_gradient_norms_leave_the_weights_unchanged():
    model = tiny()
    before = [w.numpy().copy() for w in model.weights]
    regularization.gradient_norms(model, X, Y)
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, new.numpy())


def test_gradient_norms_use_the_given_loss():
    model = tiny()
    labels = Y.argmax(axis=1)
    sparse = regularization.gradient_norms(
        model, X, labels, loss=keras.losses.SparseCategoricalCrossentropy())
    assert list(sparse.values()) == pytest.approx(
        list(regularization.gradient_norms(model, X, Y).values()), rel=1e-5)


@pytest.mark.parametrize(("x", "y"), [(X, Y[:5]), (X[:0], Y[:0])], ids=["lengths", "empty"])
def test_gradient_norms_bad_batch_raises_value_error(x, y):
    with pytest.raises(ValueError):
        regularization.gradient_norms(tiny(), x, y)


def test_gradient_norms_need_a_dense_layer():
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Activation("relu")])
    with pytest.raises(ValueError, match="no Dense layer"):
        regularization.gradient_norms(model, X, X)


def test_activation_stds_are_the_spread_of_each_hidden_output():
    model = tiny()
    first, second = model.layers[0], model.layers[1]
    h1 = keras.ops.convert_to_numpy(first(X))
    h2 = keras.ops.convert_to_numpy(second(h1))
    stds = regularization.activation_stds(model, X)
    assert list(stds) == ["hidden_1", "hidden_2"]
    assert list(stds.values()) == pytest.approx([h1.std(), h2.std()], rel=1e-5)


def test_activation_stds_of_a_zero_initialised_network_are_zero():
    stds = regularization.activation_stds(tiny(kernel_initializer="zeros"), X)
    assert list(stds.values()) == [0.0, 0.0]


def test_activation_stds_need_a_hidden_layer():
    with pytest.raises(ValueError, match="no hidden Dense layer"):
        regularization.activation_stds(models.mlp(6, (), 3), X)


# --- TimeBudget -------------------------------------------------------------------------------


def fit_with(budget: regularization.TimeBudget, epochs: int) -> keras.callbacks.History:
    model = tiny()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model.fit(X, Y, epochs=epochs, verbose=0, callbacks=[budget])


def test_time_budget_stops_when_the_next_epoch_would_overrun():
    budget = regularization.TimeBudget(seconds=1e-6)
    history = fit_with(budget, epochs=20)
    assert len(history.history["loss"]) == 1
    assert budget.stopped
    assert budget.elapsed > 0


def test_time_budget_lets_a_short_training_finish():
    budget = regularization.TimeBudget(seconds=600)
    history = fit_with(budget, epochs=3)
    assert len(history.history["loss"]) == 3
    assert not budget.stopped
    assert 0 < budget.elapsed < 600


@pytest.mark.parametrize("seconds", [0, -5.0])
def test_time_budget_must_be_positive(seconds):
    with pytest.raises(ValueError):
        regularization.TimeBudget(seconds)
