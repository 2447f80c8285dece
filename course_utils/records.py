"""Recorded runs: per-image results stored as compact text, and whether a page's run is a record's.

A paired comparison of two networks needs to know which images each classified correctly. The
scripts under ``benchmarks/`` record that as the bits of ``numpy.packbits``, base64-encoded (one
byte per eight images), and predicted classes as one base64-encoded byte per image.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from course_utils import repro

if TYPE_CHECKING:
    import keras

__all__ = ["NOISY_LABELS_BASELINE", "decode_correct", "decode_labels", "encode_correct",
           "encode_labels", "matches_record", "noisy_labels_baseline"]

# exercise 6's given network, trained once by its set-up cell (benchmarks/noisy_labels_baseline.py)
NOISY_LABELS_BASELINE = "recorded/noisy_labels_baseline.json"

SAME_CPU_TOLERANCE = 2e-3  # the same arithmetic: equal to the third decimal
FIRST_EPOCH_TOLERANCE = 0.02  # another CPU: other last digits, still the same first epoch ...
DRIFT_TOLERANCE = 0.3  # ... after which training amplifies them, most in an overfitting run


def encode_correct(correct: np.ndarray) -> str:
    """A boolean vector as base64 text of its packed bits."""
    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode("ascii")


def decode_correct(text: str, n: int) -> np.ndarray:
    """The boolean vector of length ``n`` that ``encode_correct`` wrote."""
    bits = np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))
    if n < 0 or n > len(bits) or n <= len(bits) - 8:
        raise ValueError(f"the text holds {len(bits)} bits, which cannot be {n} images")
    return bits[:n].astype(bool)


def encode_labels(labels: np.ndarray) -> str:
    """Class labels 0–255 as base64 text of one byte each."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError("labels must lie between 0 and 255 to be stored as bytes")
    return base64.b64encode(labels.astype(np.uint8).tobytes()).decode("ascii")


def decode_labels(text: str) -> np.ndarray:
    """The labels that ``encode_labels`` wrote, as integers."""
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8).astype(np.int64)


def matches_record(recorded: Sequence[float], page: Sequence[float], *,
                   recorded_cpu: str | None) -> bool:
    """Whether a page's per-epoch curve is the recorded run's, as closely as this CPU allows.

    On the CPU that made the record (``recorded_cpu``) the two agree to the third decimal; on
    another, the first epoch agrees and the rest may drift, as chapter 2 explains.
    """
    recorded, page = np.asarray(recorded, dtype=float), np.asarray(page, dtype=float)
    if recorded.shape != page.shape or recorded.ndim != 1 or not recorded.size:
        raise ValueError("two curves of the same number of epochs are needed, got "
                         f"{recorded.shape} and {page.shape}")
    if recorded_cpu == repro.cpu_signature():
        return bool(np.allclose(recorded, page, rtol=0, atol=SAME_CPU_TOLERANCE))
    return bool(abs(recorded[0] - page[0]) <= FIRST_EPOCH_TOLERANCE
                and np.allclose(recorded, page, rtol=0, atol=DRIFT_TOLERANCE))


def noisy_labels_baseline() -> tuple[keras.callbacks.History, list[float]]:
    """Exercise 6's recorded baseline: its training history and its check accuracy per epoch."""
    import keras  # noqa: PLC0415 - only the exercise needs it

    record = json.loads(resources.files("course_utils").joinpath(NOISY_LABELS_BASELINE)
                        .read_text())
    history = keras.callbacks.History()
    history.history = {name: list(values) for name, values in record["history"].items()}
    history.epoch = list(range(len(record["check_accuracy"])))
    history.params = dict(record["params"])
    return history, list(record["check_accuracy"])
