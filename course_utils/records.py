"""Recorded runs: the per-image results that benchmark JSON files store as compact text.

A paired comparison of two networks needs to know which images each classified correctly. The
scripts under ``benchmarks/`` record that as the bits of ``numpy.packbits``, base64-encoded (one
byte per eight images), and predicted classes as one base64-encoded byte per image.
"""

from __future__ import annotations

import base64

import numpy as np

__all__ = ["decode_correct", "decode_labels", "encode_correct", "encode_labels"]


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
