"""Tests of course_utils.preprocess: scaling, flattening, one-hot labels, the stratified split,
standardisation with training statistics, duplicate detection, and their errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import preprocess

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(12, 4, 3), dtype=np.uint8)
# 60 labels: class 0 has 30 examples, class 1 has 20, class 2 has 10 (deliberately unbalanced)
LABELS = np.repeat(np.array([0, 1, 2], dtype=np.uint8), [30, 20, 10])
RNG.shuffle(LABELS)


# --- scale_images -------------------------------------------------------------------------------


def test_scale_images_maps_0_and_255_to_0_and_1_as_float32():
    scaled = preprocess.scale_images(np.array([[0, 51, 255]], dtype=np.uint8))
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, np.array([[0.0, 0.2, 1.0]], dtype=np.float32))


def test_scale_images_keeps_the_shape_and_leaves_the_input_unchanged():
    original = IMAGES.copy()
    scaled = preprocess.scale_images(IMAGES)
    assert scaled.shape == IMAGES.shape
    np.testing.assert_array_equal(IMAGES, original)
    np.testing.assert_allclose(scaled, IMAGES / 255.0, rtol=1e-6)


def test_scale_images_with_max_value_16_for_digits():
    scaled = preprocess.scale_images(np.array([0, 4, 16], dtype=np.int64), max_value=16)
    np.testing.assert_array_equal(scaled, [0.0, 0.25, 1.0])


def test_scale_images_accepts_an_empty_batch():
    scaled = preprocess.scale_images(np.zeros((0, 28, 28), dtype=np.uint8))
    assert scaled.shape == (0, 28, 28) and scaled.dtype == np.float32


def test_scale_images_refuses_float_input_as_probably_scaled_already():
    with pytest.raises(ValueError, match="scaled already"):
        preprocess.scale_images(IMAGES / 255.0)


@pytest.mark.parametrize(
    ("images", "max_value", "message"),
    [
        (np.array([0, 17], dtype=np.uint8), 16, "0..16"),
        (np.array([-1, 3], dtype=np.int16), 255, "0..255"),
        (np.array([1, 2], dtype=np.uint8), 0, "max_value"),
        (np.array([1, 2], dtype=np.uint8), 2.5, "max_value"),
        (np.array([True, False]), 255, "integer"),
        (np.array(["a", "b"], dtype=object), 255, "numeric"),
    ],
    ids=["above-max-value", "negative", "zero-max-value", "float-max-value", "bool", "object"],
)
def test_scale_images_bad_input_raises_a_clear_value_error(images, max_value, message):
    with pytest.raises(ValueError, match=message):
        preprocess.scale_images(images, max_value=max_value)


# --- flatten_images -----------------------------------------------------------------------------


def test_flatten_images_gives_one_row_per_image():
    assert preprocess.flatten_images(np.zeros((5, 28, 28), dtype=np.uint8)).shape == (5, 784)


def test_flatten_images_is_row_major_pixel_r_c_to_column_width_r_plus_c():
    flat = preprocess.flatten_images(IMAGES)
    height, width = IMAGES.shape[1:]
    for r in range(height):
        for c in range(width):
            np.testing.assert_array_equal(flat[:, width * r + c], IMAGES[:, r, c])


def test_flatten_images_returns_a_view_not_a_copy():
    assert np.shares_memory(preprocess.flatten_images(IMAGES), IMAGES)


def test_flatten_images_keeps_channels_of_colour_images():
    assert preprocess.flatten_images(np.zeros((2, 32, 32, 3))).shape == (2, 3072)


def test_flatten_images_accepts_an_empty_batch():
    assert preprocess.flatten_images(np.zeros((0, 28, 28))).shape == (0, 784)


@pytest.mark.parametrize(
    ("shape", "message"),
    [((5, 784), "flat already"), ((784,), "shape"), ((), "shape")],
    ids=["flat-already", "one-image-vector", "scalar"],
)
def test_flatten_images_bad_shape_raises_a_clear_value_error(shape, message):
    with pytest.raises(ValueError, match=message):
        preprocess.flatten_images(np.zeros(shape))


# --- one_hot ------------------------------------------------------------------------------------


def test_one_hot_puts_a_single_1_in_the_column_of_each_label():
    encoded = preprocess.one_hot(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(encoded, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_one_hot_is_float32_by_default_and_takes_another_dtype():
    assert preprocess.one_hot(np.array([0, 1]), 2).dtype == np.float32
    assert preprocess.one_hot(np.array([0, 1]), 2, dtype=np.int64).dtype == np.int64


def test_one_hot_has_num_classes_columns_even_when_the_last_classes_are_absent():
    assert preprocess.one_hot(np.array([0, 1, 1]), 10).shape == (3, 10)


def test_one_hot_argmax_gives_back_the_labels():
    labels = RNG.integers(0, 10, size=50)
    np.testing.assert_array_equal(preprocess.one_hot(labels, 10).argmax(axis=1), labels)


def test_one_hot_equals_keras_to_categorical():
    keras = pytest.importorskip("keras")
    labels = RNG.integers(0, 10, size=50).astype(np.uint8)
    np.testing.assert_array_equal(
        preprocess.one_hot(labels, 10), keras.utils.to_categorical(labels, 10)
    )


@pytest.mark.parametrize(
    ("labels", "num_classes", "message"),
    [
        (np.array([0, 3]), 3, "0..2"),
        (np.array([-1, 0]), 3, "0..2"),
        (np.array([0.0, 1.0]), 3, "integers"),
        (np.eye(3, dtype=np.int64), 3, "one-hot already"),
        (np.array([0, 1]), 0, "num_classes"),
        (np.array([0, 1]), True, "num_classes"),
    ],
    ids=["too-large", "negative", "float-labels", "one-hot-input", "zero-classes", "bool-classes"],
)
def test_one_hot_bad_input_raises_a_clear_value_error(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        preprocess.one_hot(labels, num_classes)


# --- stratified_split ---------------------------------------------------------------------------


def test_stratified_split_parts_are_disjoint_and_cover_every_index_once():
    train, validation = preprocess.stratified_split(LABELS, 0.2, seed=1)
    assert len(np.intersect1d(train, validation)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, validation])), np.arange(60))


def test_stratified_split_keeps_each_class_proportion_exactly():
    _, validation = preprocess.stratified_split(LABELS, 0.2, seed=1)
    np.testing.assert_array_equal(np.bincount(LABELS[validation]), [6, 4, 2])


def test_stratified_split_rounds_each_class_count_half_up():
    labels = np.repeat(np.array([0, 1]), [5, 15])  # 0.1 × 5 = 0.5 → 1, 0.1 × 15 = 1.5 → 2
    _, validation = preprocess.stratified_split(labels, 0.1, seed=0)
    np.testing.assert_array_equal(np.bincount(labels[validation]), [1, 2])


def test_stratified_split_returns_sorted_integer_indices():
    train, validation = preprocess.stratified_split(LABELS, 0.2, seed=1)
    for part in (train, validation):
        assert np.issubdtype(part.dtype, np.integer)
        np.testing.assert_array_equal(part, np.sort(part))


def test_stratified_split_is_repeatable_with_the_same_seed():
    first = preprocess.stratified_split(LABELS, 0.2, seed=7)
    second = preprocess.stratified_split(LABELS, 0.2, seed=7)
    np.testing.assert_array_equal(first[1], second[1])


def test_stratified_split_differs_with_another_seed():
    _, first = preprocess.stratified_split(LABELS, 0.2, seed=7)
    _, second = preprocess.stratified_split(LABELS, 0.2, seed=8)
    assert not np.array_equal(first, second)


def test_stratified_split_draws_at_random_not_the_first_of_each_class():
    _, validation = preprocess.stratified_split(LABELS, 0.2, seed=1)
    first_of_each = np.sort(np.concatenate(
        [np.flatnonzero(LABELS == k)[:n] for k, n in zip(range(3), [6, 4, 2])]
    ))
    assert not np.array_equal(validation, first_of_each)


@pytest.mark.parametrize(
    ("labels", "fraction", "seed", "message"),
    [
        (LABELS, 0.0, 0, "strictly between"),
        (LABELS, 1.0, 0, "strictly between"),
        (LABELS, "0.1", 0, "strictly between"),
        (LABELS, 0.2, -1, "seed"),
        (LABELS, 0.2, 1.5, "seed"),
        (LABELS.astype(float), 0.2, 0, "integer"),
        (np.eye(3, dtype=int)[LABELS], 0.2, 0, "1-D"),
        (np.array([0, 0, 0, 0, 1]), 0.2, 0, "class 1 has 1 example"),
        (np.array([0] * 20 + [1] * 4), 0.1, 0, "class 1 has 4 example"),
        (np.array([], dtype=int), 0.2, 0, "empty"),
    ],
    ids=[
        "fraction-0", "fraction-1", "fraction-str", "negative-seed", "float-seed", "float-labels",
        "one-hot-labels", "singleton-class", "class-rounds-to-no-validation", "empty-labels",
    ],
)
def test_stratified_split_bad_input_raises_a_clear_value_error(labels, fraction, seed, message):
    with pytest.raises(ValueError, match=message):
        preprocess.stratified_split(labels, fraction, seed=seed)


# --- Standardizer -------------------------------------------------------------------------------


def test_standardizer_makes_training_features_mean_0_std_1():
    x = RNG.normal(loc=5.0, scale=3.0, size=(200, 4))
    z = preprocess.Standardizer.fit(x).transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-5)


def test_standardizer_applies_the_training_statistics_to_other_data():
    train = np.array([[0.0, 10.0], [2.0, 30.0]])  # mean (1, 20), std (1, 10)
    scaler = preprocess.Standardizer.fit(train)
    np.testing.assert_allclose(scaler.transform(np.array([[3.0, 0.0]])), [[2.0, -2.0]])


def test_standardizer_does_not_refit_on_the_data_it_transforms():
    scaler = preprocess.Standardizer.fit(np.array([[0.0], [2.0]]))
    z = scaler.transform(np.array([[10.0], [12.0]]))
    np.testing.assert_allclose(z, [[9.0], [11.0]])  # not [[-1], [1]]


def test_standardizer_centres_a_constant_feature_instead_of_dividing_by_zero():
    train = np.array([[0.0, 5.0], [2.0, 5.0]])
    scaler = preprocess.Standardizer.fit(train)
    with np.errstate(divide="raise", invalid="raise"):
        z = scaler.transform(np.array([[1.0, 5.0], [1.0, 7.0]]))
    np.testing.assert_allclose(z, [[0.0, 0.0], [0.0, 2.0]])


def test_standardizer_works_on_uint8_images_and_returns_float32():
    z = preprocess.Standardizer.fit(IMAGES).transform(IMAGES)
    assert z.dtype == np.float32 and z.shape == IMAGES.shape


def test_standardizer_global_statistics_are_single_numbers():
    x = np.array([[0.0, 2.0], [4.0, 6.0]])  # mean 3, std sqrt(5)
    scaler = preprocess.Standardizer.fit(x, per_feature=False)
    assert scaler.mean.shape == () and scaler.std.shape == ()
    np.testing.assert_allclose(scaler.transform(x), (x - 3.0) / np.sqrt(5.0), rtol=1e-6)


def test_standardizer_statistics_are_float32_and_frozen():
    scaler = preprocess.Standardizer.fit(RNG.normal(size=(10, 3)))
    assert scaler.mean.dtype == np.float32 and scaler.std.dtype == np.float32
    with pytest.raises(AttributeError):
        scaler.mean = np.zeros(3)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.array([1.0, 2.0, 3.0]), "at least two examples"),
        (np.ones((1, 3)), "at least two examples"),
        (np.ones((3, 2), dtype=bool), "real numbers"),
        (np.ones((3, 2), dtype=complex), "real numbers"),
    ],
    ids=["1-d", "one-example", "bool", "complex"],
)
def test_standardizer_fit_bad_input_raises_a_clear_value_error(x, message):
    with pytest.raises(ValueError, match=message):
        preprocess.Standardizer.fit(x)


def test_standardizer_transform_of_other_feature_shape_raises_value_error():
    scaler = preprocess.Standardizer.fit(np.ones((4, 784)))
    with pytest.raises(ValueError, match="fitted on examples shaped"):
        scaler.transform(np.ones((4, 28, 28)))


# --- image_hashes and find_duplicates -----------------------------------------------------------


def test_image_hashes_are_equal_exactly_for_equal_images():
    images = IMAGES.copy()
    images[5] = images[2]
    hashes = preprocess.image_hashes(images)
    assert hashes.shape == (12,)
    assert hashes[5] == hashes[2]
    assert len(set(hashes)) == 11


def test_image_hashes_see_a_single_changed_pixel():
    changed = IMAGES[:1].copy()
    changed[0, 0, 0] ^= 1
    assert preprocess.image_hashes(changed)[0] != preprocess.image_hashes(IMAGES[:1])[0]


def test_image_hashes_do_not_depend_on_memory_layout():
    fortran_order = np.asfortranarray(IMAGES)
    np.testing.assert_array_equal(
        preprocess.image_hashes(fortran_order), preprocess.image_hashes(IMAGES)
    )


def test_find_duplicates_across_two_sets_returns_index_pairs():
    others = np.stack([IMAGES[3], IMAGES[0] ^ 1, IMAGES[7], IMAGES[3]])
    pairs = preprocess.find_duplicates(IMAGES, others)
    np.testing.assert_array_equal(pairs, [[3, 0], [3, 3], [7, 2]])


def test_find_duplicates_within_one_set_lists_each_pair_once():
    images = np.concatenate([IMAGES, IMAGES[[4, 4, 9]]])  # 4 three times, 9 twice
    pairs = preprocess.find_duplicates(images)
    np.testing.assert_array_equal(pairs, [[4, 12], [4, 13], [9, 14], [12, 13]])


def test_find_duplicates_of_distinct_images_is_an_empty_k_by_2_array():
    pairs = preprocess.find_duplicates(IMAGES, IMAGES[:0])
    assert pairs.shape == (0, 2) and np.issubdtype(pairs.dtype, np.integer)
    assert preprocess.find_duplicates(IMAGES).shape == (0, 2)


@pytest.mark.parametrize(
    ("images", "others", "message"),
    [
        (IMAGES, IMAGES / 255.0, "like with like"),
        (IMAGES, IMAGES.reshape(12, 12), "like with like"),
        (IMAGES[0, 0], None, "batch"),
    ],
    ids=["dtype-differs", "shape-differs", "not-a-batch"],
)
def test_find_duplicates_bad_input_raises_a_clear_value_error(images, others, message):
    with pytest.raises(ValueError, match=message):
        preprocess.find_duplicates(images, others)
