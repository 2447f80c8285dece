"""Tests of course_utils.models: architectures, parameter counts, regularization options, Keras 3
idioms, bad arguments."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from course_utils import models

# builder, layer sizes, parameters stated in the course text, output activation
ARCHITECTURES = [
    (models.baseline_mlp, (784, 256, 128, 10), 235_146, "softmax"),
    (models.small_mlp, (784, 32, 10), 25_450, "softmax"),
    (models.two_hidden_mlp, (784, 64, 32, 10), 52_650, "softmax"),
    (models.intro_regressor, (20, 64, 10), 1_994, "linear"),
]
IDS = [builder.__name__ for builder, *_ in ARCHITECTURES]


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_builder_has_the_parameter_count_of_the_course_text(builder, sizes, params, output):
    assert builder().count_params() == params


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_dense_param_count_agrees_with_keras(builder, sizes, params, output):
    assert models.dense_param_count(sizes) == builder().count_params()


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_builder_layer_widths_match_the_architecture(builder, sizes, params, output):
    model = builder()
    assert model.input_shape == (None, sizes[0])
    assert [layer.units for layer in model.layers] == list(sizes[1:])


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_builder_starts_with_keras_input_named_features(builder, sizes, params, output):
    model = builder()
    assert isinstance(model._layers[0], keras.layers.InputLayer)
    assert model.inputs[0].name == "features"


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_builder_emits_no_warning_such_as_the_input_shape_one(builder, sizes, params, output):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        builder()


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_builder_hidden_layers_use_relu(builder, sizes, params, output):
    hidden = builder().layers[:-1]
    assert [layer.activation.__name__ for layer in hidden] == ["relu"] * len(hidden)


@pytest.mark.parametrize(("builder", "sizes", "params", "output"), ARCHITECTURES, ids=IDS)
def test_builder_output_activation(builder, sizes, params, output):
    assert builder().layers[-1].activation.__name__ == output


def test_builder_returns_an_uncompiled_model():
    assert not models.small_mlp().compiled


def test_mlp_custom_activations_are_applied():
    model = models.mlp((4, 5), input_dim=3, n_outputs=2, activation="tanh",
                       output_activation="sigmoid")
    names = [layer.activation.__name__ for layer in model.layers]
    assert names == ["tanh", "tanh", "sigmoid"]


def test_mlp_without_hidden_layers_is_a_single_dense_layer():
    model = models.mlp((), input_dim=4, n_outputs=3)
    assert len(model.layers) == 1
    assert model.count_params() == (4 + 1) * 3


@pytest.mark.parametrize(
    ("input_dim", "hidden", "outputs"),
    [
        (0, (8,), 2),
        (-4, (8,), 2),
        (4.0, (8,), 2),
        (True, (8,), 2),
        (4, (8, 0), 2),
        (4, (8.5,), 2),
        (4, (8,), 0),
        (4, (8,), "10"),
    ],
    ids=[
        "zero-input", "negative-input", "float-input", "bool-input",
        "zero-hidden", "float-hidden", "zero-outputs", "str-outputs",
    ],
)
def test_mlp_bad_sizes_raise_value_error(input_dim, hidden, outputs):
    with pytest.raises(ValueError):
        models.mlp(hidden, input_dim=input_dim, n_outputs=outputs)


def test_mlp_bad_size_error_names_the_argument():
    with pytest.raises(ValueError, match=r"hidden_units\[1\]"):
        models.mlp((8, 0), input_dim=4, n_outputs=2)


@pytest.mark.parametrize("sizes", [[], [784], [784, 0, 10], [784, -3, 10]])
def test_dense_param_count_bad_sizes_raise_value_error(sizes):
    with pytest.raises(ValueError):
        models.dense_param_count(sizes)


def test_dense_param_count_by_hand():
    assert models.dense_param_count([3, 2]) == 3 * 2 + 2


# chapter 8: the small CNN, its convolutional base and a new head on a shared base
def test_small_cnn_parameter_count_by_hand():
    # conv 3·3·1·32 and 3·3·32·64 (no bias), 4 numbers per BN channel, dense 5·5·64·10 + 10
    expected = 3 * 3 * 1 * 32 + 4 * 32 + 3 * 3 * 32 * 64 + 4 * 64 + (5 * 5 * 64 + 1) * 10
    assert models.small_cnn().count_params() == expected == 35_114


def test_small_cnn_without_batch_norm_has_conv_biases():
    model = models.small_cnn((16, 32), batch_norm=False, dropout=0.0)
    expected = (9 * 1 + 1) * 16 + (9 * 16 + 1) * 32 + (5 * 5 * 32 + 1) * 10
    assert model.count_params() == expected


def test_small_cnn_maps_images_to_class_probabilities():
    model = models.small_cnn((4, 8))
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert model.layers[-1].activation.__name__ == "softmax"


def test_conv_base_output_is_the_flattened_last_feature_map():
    base = models.conv_base((4, 8))
    assert base.output_shape == (None, 5 * 5 * 8)
    assert [layer.name for layer in base.layers][:4] == ["conv_1", "bn_1", "relu_1", "pool_1"]


def test_classifier_on_shares_the_base_weights_instead_of_copying_them():
    base = models.conv_base((4, 8))
    first, second = models.classifier_on(base, 5), models.classifier_on(base, 3)
    assert first.layers[0] is base and second.layers[0] is base
    base.trainable = False
    assert len(first.trainable_weights) == 2  # only the new head's kernel and bias
    assert first.output_shape == (None, 5) and second.output_shape == (None, 3)


def test_classifier_on_adds_dropout_only_when_asked():
    base = models.conv_base((4,))
    assert [type(layer).__name__ for layer in models.classifier_on(base, 2).layers] == [
        "Sequential", "Dense"]
    with_dropout = models.classifier_on(base, 2, dropout=0.5)
    assert type(with_dropout.layers[1]).__name__ == "Dropout"


@pytest.mark.parametrize("filters", [(), (16, 0), (16.0,), (True,)],
                         ids=["empty", "zero", "float", "bool"])
def test_conv_base_bad_filters_raise_value_error(filters):
    with pytest.raises(ValueError):
        models.conv_base(filters)


@pytest.mark.parametrize(("n_outputs", "dropout"), [(0, 0.0), ("5", 0.0), (5, 1.0), (5, -0.1)],
                         ids=["zero-outputs", "str-outputs", "dropout-one", "negative-dropout"])
def test_classifier_on_bad_arguments_raise_value_error(n_outputs, dropout):
    with pytest.raises(ValueError):
        models.classifier_on(models.conv_base((4,)), n_outputs, dropout=dropout)


def test_cnn_builders_emit_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models.small_cnn((4, 8))


# --- chapter 6: the regularization options of mlp ------------------------------------------------

RNG = np.random.default_rng(0)
X = RNG.random((16, 6)).astype("float32")


def tiny(**kwargs) -> keras.Sequential:
    return models.mlp((5, 4), input_dim=6, n_outputs=3, **kwargs)


def layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_mlp_default_is_the_chapter_4_baseline_architecture():
    model = models.mlp()
    assert model.count_params() == models.baseline_mlp().count_params() == 235_146
    assert layer_types(model) == ["Dense"] * 3
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "relu", "softmax"]


def test_mlp_starts_with_keras_input_and_emits_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = models.mlp()
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
    model = models.mlp(batch_norm=True)
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
        {"l1": -1e-3},
    ],
    ids=["dropout-one", "dropout-negative", "input-dropout-too-large", "l2-negative",
         "l1-negative"],
)
def test_mlp_bad_regularization_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        models.mlp(**kwargs)
