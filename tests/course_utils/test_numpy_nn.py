"""Tests of course_utils.numpy_nn against closed forms, TensorFlow autodiff and Keras's Adam."""

from __future__ import annotations

import copy

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import numpy_nn as nn

Z = np.linspace(-6, 6, 25)


def small_network(dtype=np.float64, sizes=(5, 4, 3, 3), batch=6, seed=0):
    rng = np.random.default_rng(seed)
    params = nn.init_params(list(sizes), rng, dtype=dtype)
    for layer in params:  # non-zero biases so their gradients are exercised too
        layer.bias = rng.normal(scale=0.1, size=layer.bias.shape).astype(dtype)
    x = rng.normal(size=(batch, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], size=batch)]
    return params, x, y


def loss_of(params, x, y) -> float:
    probabilities, _ = nn.forward(params, x)
    return float(-np.mean(np.sum(y * np.log(probabilities), axis=-1)))


# --- activations --------------------------------------------------------------------------------


def test_relu_matches_closed_form():
    np.testing.assert_array_equal(nn.relu(Z), np.where(Z > 0, Z, 0.0))


def test_relu_grad_is_step_function_with_zero_at_zero():
    np.testing.assert_array_equal(nn.relu_grad(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


def test_sigmoid_matches_closed_form():
    np.testing.assert_allclose(nn.sigmoid(Z), 1.0 / (1.0 + np.exp(-Z)), rtol=1e-12)


@pytest.mark.parametrize(("value", "dtype"), [
    (1.5, np.float64), (np.float32(1.5), np.float32), (np.array([1, 2]), np.float64),
    (np.array([1, 2], np.uint8), np.float32),
])
def test_sigmoid_keeps_the_input_precision(value, dtype):
    assert nn.sigmoid(value).dtype == dtype


def test_sigmoid_of_zero_is_one_half():
    assert nn.sigmoid(np.array(0.0)) == 0.5


def test_sigmoid_is_stable_at_plus_and_minus_1000():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        result = nn.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(result, [0.0, 1.0], atol=1e-300)


def test_sigmoid_grad_matches_closed_form():
    s = 1.0 / (1.0 + np.exp(-Z))
    np.testing.assert_allclose(nn.sigmoid_grad(Z), s * (1 - s), rtol=1e-12)


def test_tanh_matches_closed_form():
    closed = (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z))
    np.testing.assert_allclose(nn.tanh(Z), closed, rtol=1e-12, atol=1e-15)


def test_tanh_grad_matches_central_differences():
    h = 1e-6
    numeric = (np.tanh(Z + h) - np.tanh(Z - h)) / (2 * h)
    np.testing.assert_allclose(nn.tanh_grad(Z), numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_grad_matches_central_differences():
    h = 1e-6
    numeric = (nn.sigmoid(Z + h) - nn.sigmoid(Z - h)) / (2 * h)
    np.testing.assert_allclose(nn.sigmoid_grad(Z), numeric, rtol=1e-6, atol=1e-9)


def test_softmax_matches_closed_form():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(nn.softmax(z), expected, rtol=1e-12)


def test_softmax_rows_sum_to_one():
    z = np.random.default_rng(1).normal(scale=10, size=(7, 5))
    np.testing.assert_allclose(nn.softmax(z).sum(axis=1), np.ones(7), rtol=1e-12)


def test_softmax_is_shift_invariant():
    z = np.random.default_rng(2).normal(size=(4, 6))
    np.testing.assert_allclose(nn.softmax(z + 123.0), nn.softmax(z), rtol=1e-12)


def test_softmax_is_stable_for_large_logits():
    with np.errstate(over="raise", invalid="raise"):
        result = nn.softmax(np.array([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(result, [[1.0, 0.0, 0.0]], atol=1e-300)


def test_softmax_along_axis_zero_normalises_columns():
    z = np.random.default_rng(3).normal(size=(4, 6))
    np.testing.assert_allclose(nn.softmax(z, axis=0).sum(axis=0), np.ones(6), rtol=1e-12)


# --- dense layer and loss -----------------------------------------------------------------------


def test_dense_forward_computes_activation_of_affine_map():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    np.testing.assert_allclose(nn.dense_forward(x, w, b, "relu"), np.maximum(x @ w + b, 0))


def test_dense_forward_without_activation_is_linear():
    x, w, b = np.ones((2, 3)), np.full((3, 4), 2.0), np.arange(4.0)
    np.testing.assert_allclose(nn.dense_forward(x, w, b), 6.0 + np.arange(4.0) + np.zeros((2, 4)))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape"),
    [
        ((3,), (3, 2), (2,)),  # a single sample without its batch axis
        ((4, 3), (3,), (2,)),  # weights not a matrix
        ((4, 3), (3, 2), (1, 2)),  # bias not a vector
        ((4, 3), (5, 2), (2,)),  # inputs do not chain into the weights
        ((4, 3), (3, 2), (3,)),  # bias does not match the outputs
    ],
    ids=["x-1d", "weights-1d", "bias-2d", "inputs-mismatch", "bias-mismatch"],
)
def test_dense_forward_shape_errors_raise_value_error(x_shape, w_shape, b_shape):
    with pytest.raises(ValueError):
        nn.dense_forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape))


def test_dense_forward_unknown_activation_raises_value_error():
    with pytest.raises(ValueError, match="swish"):
        nn.dense_forward(np.zeros((1, 2)), np.zeros((2, 2)), np.zeros(2), "swish")


def test_cross_entropy_matches_closed_form():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert nn.cross_entropy(p, y) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)


def test_cross_entropy_of_zero_probability_is_finite():
    assert np.isfinite(nn.cross_entropy(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])))


def test_cross_entropy_shape_mismatch_raises_value_error():
    with pytest.raises(ValueError):
        nn.cross_entropy(np.full((2, 3), 1 / 3), np.eye(3))


# --- network: forward, backward, updates --------------------------------------------------------


def test_forward_returns_probabilities_and_two_cache_entries_per_layer():
    params, x, _ = small_network()
    probabilities, cache = nn.forward(params, x)
    assert probabilities.shape == (6, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), np.ones(6), rtol=1e-12)
    assert len(cache) == 2 * len(params)


def test_backward_matches_tensorflow_gradient_tape():
    params, x, y = small_network()
    probabilities, cache = nn.forward(params, x)
    grads = nn.backward(params, cache, probabilities, y)

    variables = [tf.Variable(a) for layer in params for a in (layer.weights, layer.bias)]
    with tf.GradientTape() as tape:
        a = tf.constant(x)
        for i in range(len(params)):
            z = a @ variables[2 * i] + variables[2 * i + 1]
            a = tf.nn.softmax(z) if i == len(params) - 1 else tf.nn.relu(z)
        loss = -tf.reduce_mean(tf.reduce_sum(y * tf.math.log(a), axis=-1))
    expected = tape.gradient(loss, variables)

    for i, layer in enumerate(grads):
        np.testing.assert_allclose(layer.weights, expected[2 * i].numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.bias, expected[2 * i + 1].numpy(), rtol=1e-9, atol=1e-12)


def test_backward_matches_central_finite_differences():
    params, x, y = small_network(sizes=(3, 4, 2), batch=5, seed=7)
    probabilities, cache = nn.forward(params, x)
    grads = nn.backward(params, cache, probabilities, y)
    h = 1e-6
    for layer, grad in zip(params, grads):
        for array, analytic in ((layer.weights, grad.weights), (layer.bias, grad.bias)):
            numeric = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                original = array[index]
                array[index] = original + h
                plus = loss_of(params, x, y)
                array[index] = original - h
                minus = loss_of(params, x, y)
                array[index] = original
                numeric[index] = (plus - minus) / (2 * h)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_backward_gradients_have_the_parameter_shapes():
    params, x, y = small_network()
    probabilities, cache = nn.forward(params, x)
    grads = nn.backward(params, cache, probabilities, y)
    assert [(g.weights.shape, g.bias.shape) for g in grads] == [
        (p.weights.shape, p.bias.shape) for p in params
    ]


def test_sgd_step_subtracts_learning_rate_times_gradient():
    params, x, y = small_network()
    probabilities, cache = nn.forward(params, x)
    grads = nn.backward(params, cache, probabilities, y)
    updated = nn.sgd_step(params, grads, 0.5)
    for new, old, grad in zip(updated, params, grads):
        np.testing.assert_allclose(new.weights, old.weights - 0.5 * grad.weights)
        np.testing.assert_allclose(new.bias, old.bias - 0.5 * grad.bias)


def test_sgd_step_does_not_mutate_its_inputs():
    params, x, y = small_network()
    probabilities, cache = nn.forward(params, x)
    grads = nn.backward(params, cache, probabilities, y)
    params_before, grads_before = copy.deepcopy(params), copy.deepcopy(grads)
    nn.sgd_step(params, grads, 0.1)
    for now, before in zip(params + grads, params_before + grads_before):
        np.testing.assert_array_equal(now.weights, before.weights)
        np.testing.assert_array_equal(now.bias, before.bias)


def test_sgd_steps_reduce_the_loss():
    params, x, y = small_network()
    start = loss_of(params, x, y)
    for _ in range(20):
        probabilities, cache = nn.forward(params, x)
        params = nn.sgd_step(params, nn.backward(params, cache, probabilities, y), 0.5)
    assert loss_of(params, x, y) < start


def test_adam_matches_keras_adam_over_three_steps():
    params, _, _ = small_network()
    rng = np.random.default_rng(11)
    gradient_steps = [
        [nn.DenseParams(rng.normal(size=p.weights.shape), rng.normal(size=p.bias.shape))
         for p in params]
        for _ in range(3)
    ]
    variables = [keras.Variable(a, dtype="float64") for p in params for a in (p.weights, p.bias)]
    keras_adam = keras.optimizers.Adam()
    ours = nn.Adam()
    for grads in gradient_steps:
        params = ours.step(params, grads)
        flat = [tf.constant(a) for g in grads for a in (g.weights, g.bias)]
        keras_adam.apply_gradients(zip(flat, variables))
    for i, layer in enumerate(params):
        np.testing.assert_allclose(layer.weights, variables[2 * i].numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(layer.bias, variables[2 * i + 1].numpy(), rtol=1e-6, atol=1e-9)


def test_adam_first_step_moves_each_parameter_by_about_the_learning_rate():
    params, _, _ = small_network()
    grads = [nn.DenseParams(np.full_like(p.weights, 3.0), np.full_like(p.bias, -2.0))
             for p in params]
    updated = nn.Adam(learning_rate=0.01).step(params, grads)
    np.testing.assert_allclose(updated[0].weights, params[0].weights - 0.01, rtol=1e-6)
    np.testing.assert_allclose(updated[0].bias, params[0].bias + 0.01, rtol=1e-6)


def test_adam_step_does_not_mutate_its_inputs():
    params, _, _ = small_network()
    grads = [nn.DenseParams(np.ones_like(p.weights), np.ones_like(p.bias)) for p in params]
    before = copy.deepcopy(params)
    nn.Adam().step(params, grads)
    for now, then in zip(params, before):
        np.testing.assert_array_equal(now.weights, then.weights)
        np.testing.assert_array_equal(now.bias, then.bias)


def test_adam_counts_its_steps():
    params, _, _ = small_network()
    grads = [nn.DenseParams(np.ones_like(p.weights), np.ones_like(p.bias)) for p in params]
    adam = nn.Adam()
    for _ in range(2):
        params = adam.step(params, grads)
    assert adam.step_count == 2


# --- initialisation -----------------------------------------------------------------------------


def test_init_params_shapes_follow_keras_layout():
    params = nn.init_params([784, 32, 10], np.random.default_rng(0))
    shapes = [(p.weights.shape, p.bias.shape) for p in params]
    assert shapes == [((784, 32), (32,)), ((32, 10), (10,))]


def test_init_params_weights_lie_within_the_glorot_uniform_limit():
    for layer, (n_in, n_out) in zip(
        nn.init_params([300, 100, 10], np.random.default_rng(0)), [(300, 100), (100, 10)]
    ):
        limit = np.sqrt(6.0 / (n_in + n_out))
        assert np.abs(layer.weights).max() <= limit
        assert np.abs(layer.weights).max() > 0.95 * limit  # the whole range is used


def test_init_params_biases_are_zero():
    params = nn.init_params([4, 3, 2], np.random.default_rng(0))
    assert all(not p.bias.any() for p in params)


def test_init_params_uses_the_requested_dtype():
    params = nn.init_params([4, 3], np.random.default_rng(0), dtype=np.float64)
    assert params[0].weights.dtype == params[0].bias.dtype == np.float64


def test_init_params_default_dtype_is_float32():
    params = nn.init_params([4, 3], np.random.default_rng(0))
    assert params[0].weights.dtype == np.float32


def test_init_params_is_reproducible_from_the_generator_seed():
    first = nn.init_params([4, 3], np.random.default_rng(5))
    second = nn.init_params([4, 3], np.random.default_rng(5))
    np.testing.assert_array_equal(first[0].weights, second[0].weights)


def test_init_params_needs_two_sizes():
    with pytest.raises(ValueError):
        nn.init_params([4], np.random.default_rng(0))
