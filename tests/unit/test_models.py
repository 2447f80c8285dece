"""Tests of course_utils.models: architectures, parameter counts, Keras 3 idioms, bad arguments."""

from __future__ import annotations

import warnings

import keras
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
    model = models.mlp(3, (4, 5), 2, activation="tanh", output_activation="sigmoid")
    names = [layer.activation.__name__ for layer in model.layers]
    assert names == ["tanh", "tanh", "sigmoid"]


def test_mlp_without_hidden_layers_is_a_single_dense_layer():
    model = models.mlp(4, (), 3)
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
        models.mlp(input_dim, hidden, outputs)


def test_mlp_bad_size_error_names_the_argument():
    with pytest.raises(ValueError, match=r"hidden_units\[1\]"):
        models.mlp(4, (8, 0), 2)


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
