"""course_utils.records: the compact text of recorded per-image results, and matching a record."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import records, repro


@pytest.mark.parametrize("n", [1, 7, 8, 9, 10_000])
def test_correctness_bits_round_trip_losslessly(n: int) -> None:
    correct = np.random.default_rng(n).random(n) < 0.5
    text = records.encode_correct(correct)
    assert np.array_equal(records.decode_correct(text, n), correct)
    assert len(text) <= 4 * ((n + 7) // 8 + 2) / 3 + 4  # base64 of the packed bytes


@pytest.mark.parametrize("n", [-1, 0, 17, 30])
def test_a_length_the_bits_cannot_hold_is_refused(n: int) -> None:
    text = records.encode_correct(np.ones(9, dtype=bool))  # 9 images: two bytes, 16 bits
    with pytest.raises(ValueError, match="cannot be"):
        records.decode_correct(text, n)


def test_labels_round_trip_as_one_byte_each() -> None:
    labels = np.array([0, 9, 3, 255, 7])
    text = records.encode_labels(labels)
    assert np.array_equal(records.decode_labels(text), labels)
    assert records.decode_labels(text).dtype == np.int64


@pytest.mark.parametrize("labels", [[-1, 2], [256]])
def test_labels_outside_a_byte_are_refused(labels: list[int]) -> None:
    with pytest.raises(ValueError, match="between 0 and 255"):
        records.encode_labels(np.array(labels))


def test_a_record_of_this_cpu_must_match_to_the_third_decimal():
    here = repro.cpu_signature()
    curve = [0.9, 0.7, 0.6]
    assert records.matches_record(curve, [0.9005, 0.7, 0.6015], recorded_cpu=here)
    assert not records.matches_record(curve, [0.9, 0.7, 0.61], recorded_cpu=here)


def test_a_record_of_another_cpu_must_share_the_first_epoch_and_may_drift_after_it():
    curve = [0.9, 0.7, 0.6]
    assert records.matches_record(curve, [0.91, 0.8, 0.85], recorded_cpu="another CPU")
    assert not records.matches_record(curve, [0.95, 0.7, 0.6], recorded_cpu="another CPU")
    assert not records.matches_record(curve, [0.9, 0.7, 1.0], recorded_cpu=None)


@pytest.mark.parametrize("page", [[0.9, 0.7], [], [[0.9, 0.7, 0.6]]])
def test_curves_of_other_lengths_are_refused(page):
    with pytest.raises(ValueError, match="same number of epochs"):
        records.matches_record([0.9, 0.7, 0.6] if page else [], page, recorded_cpu=None)
