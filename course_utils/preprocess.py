"""Preparing image data for a dense network (chapter 3, used from chapter 4 on).

Each helper does one step of the chapter and checks its input first, so that the classic
mistakes — scaling twice, flattening a flat array, one-hot labels of the wrong width, a
validation split that loses a class — stop with a ``ValueError`` that says what went wrong
instead of producing silently wrong numbers::

    x = flatten_images(scale_images(x_train))          # (60000, 784) float32 in [0, 1]
    train_idx, val_idx = stratified_split(y_train, validation_fraction=0.1, seed=42)
    scaler = Standardizer.fit(x[train_idx])            # statistics of the training part only
    pairs = find_duplicates(x_train, x_test)           # exact copies across two splits

Everything is NumPy; nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from course_utils._checks import positive_int

__all__ = [
    "Standardizer",
    "find_duplicates",
    "flatten_images",
    "image_hashes",
    "one_hot",
    "scale_images",
    "stratified_split",
]


def _as_array(values: object, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == object:
        raise ValueError(f"{name} must be a numeric array, got an array of Python objects")
    return array


def _is_integer(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.integer)


def _is_real_number(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)


def scale_images(images: np.ndarray, max_value: int = 255) -> np.ndarray:
    """Integer pixel values 0…``max_value`` as float32 in [0, 1] (a new array).

    Only integer input is accepted: float input has usually been scaled already, and scaling
    it a second time would squeeze every pixel into [0, 1/255]. ``max_value`` is 255 for 8-bit
    images (Fashion-MNIST, MNIST) and 16 for scikit-learn's digits.
    """
    images = _as_array(images, "images")
    if not _is_integer(images):
        raise ValueError(
            f"scale_images expects integer pixel values (uint8 for 8-bit images), got dtype "
            f"{images.dtype}. Float images have usually been scaled already: scaling twice "
            "would divide by max_value again."
        )
    positive_int(max_value, "max_value")
    if images.size and (images.min() < 0 or images.max() > max_value):
        raise ValueError(
            f"pixel values must lie in 0..{max_value}, got {images.min()}..{images.max()}; "
            "pass the right max_value"
        )
    return images.astype(np.float32) / np.float32(max_value)


def flatten_images(images: np.ndarray) -> np.ndarray:
    """``(n, height, width[, channels])`` images as ``(n, height · width[ · channels])`` rows.

    Row-major order (NumPy's default): pixel ``(r, c)`` of a 28×28 image lands in column
    ``28 · r + c``. The result is a view of ``images`` when its memory allows, not a copy.
    """
    images = _as_array(images, "images")
    if images.ndim < 3:
        raise ValueError(
            f"flatten_images expects a batch of images shaped (n, height, width), got shape "
            f"{images.shape}" + (" — is it flat already?" if images.ndim == 2 else "")
        )
    return images.reshape(images.shape[0], int(np.prod(images.shape[1:])))


def one_hot(labels: np.ndarray, num_classes: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """Integer class labels ``(n,)`` as one-hot rows ``(n, num_classes)``.

    The same result as ``keras.utils.to_categorical(labels, num_classes)``, but ``num_classes``
    is required: inferring it from the largest label gives too few columns whenever a subset
    lacks the last class.
    """
    labels = _as_array(labels, "labels")
    if labels.ndim != 1:
        raise ValueError(
            f"labels must be one-dimensional integer class labels, got shape {labels.shape}"
            + (" (one-hot already?)" if labels.ndim == 2 else "")
        )
    if not _is_integer(labels):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    positive_int(num_classes, "num_classes")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}"
        )
    encoded = np.zeros((labels.size, num_classes), dtype=dtype)
    encoded[np.arange(labels.size), labels] = 1
    return encoded


def stratified_split(
    labels: np.ndarray, validation_fraction: float = 0.1, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` of a seeded split that keeps each class's proportion.

    For every class, ``round(validation_fraction × its count)`` of its examples, drawn at random
    with ``np.random.default_rng(seed)``, go to validation and the rest to training. Both index
    arrays are sorted, disjoint, and together cover every example once. A class too small to
    appear in both parts raises ``ValueError``.
    """
    labels = _as_array(labels, "labels")
    if labels.ndim != 1 or not _is_integer(labels):
        raise ValueError(
            f"labels must be a 1-D array of integer class labels, got shape {labels.shape} "
            f"and dtype {labels.dtype}"
        )
    if len(labels) == 0:
        raise ValueError("labels is empty: there is nothing to split")
    if isinstance(validation_fraction, bool) \
            or not isinstance(validation_fraction, int | float | np.integer | np.floating) \
            or not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must lie strictly between 0 and 1, "
                         f"got {validation_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    validation = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_validation = int(np.floor(validation_fraction * len(members) + 0.5))
        if n_validation == 0 or n_validation == len(members):
            raise ValueError(
                f"class {label} has {len(members)} example(s): a validation fraction of "
                f"{validation_fraction} cannot put it in both parts"
            )
        validation.append(rng.permutation(members)[:n_validation])
    validation_idx = np.sort(np.concatenate(validation))
    train_mask = np.ones(len(labels), dtype=bool)
    train_mask[validation_idx] = False
    return np.flatnonzero(train_mask), validation_idx


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Feature-wise ``(x − mean) / std`` with statistics fitted on training data only.

    ``Standardizer.fit(x_train)`` learns the statistics; ``transform`` applies those same
    numbers to any split (the scikit-learn ``fit`` / ``transform`` pattern). A feature that is
    constant in the training data gets ``std = 1``, so it is centred instead of divided by zero.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, per_feature: bool = True) -> Standardizer:
        """Statistics of ``x`` (rows are examples): per feature, or one pair for all values."""
        x = _as_array(x, "x")
        if not _is_real_number(x) or x.dtype == np.bool_:
            raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
        if x.ndim < 2 or len(x) < 2:
            raise ValueError(
                f"fit needs at least two examples as rows of a 2-D (or higher) array, got "
                f"shape {x.shape}"
            )
        axis = 0 if per_feature else None
        mean = x.mean(axis=axis, dtype=np.float64)
        std = x.std(axis=axis, dtype=np.float64)
        std = np.where(std > 0, std, 1.0)
        return cls(np.asarray(mean, np.float32), np.asarray(std, np.float32))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``(x − mean) / std`` as float32, with the fitted statistics."""
        x = _as_array(x, "x")
        if not _is_real_number(x) or x.dtype == np.bool_:
            raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
        if self.mean.ndim and x.shape[1:] != self.mean.shape:
            raise ValueError(
                f"fitted on examples shaped {self.mean.shape}, got examples shaped {x.shape[1:]}"
            )
        return ((x.astype(np.float32) - self.mean) / self.std).astype(np.float32)


def image_hashes(images: np.ndarray) -> np.ndarray:
    """A SHA-256 hex digest of each image's bytes: equal images, equal hashes."""
    images = _as_array(images, "images")
    if images.ndim < 2:
        raise ValueError(f"images must be a batch (n, ...) of arrays, got shape {images.shape}")
    images = np.ascontiguousarray(images)
    return np.array([hashlib.sha256(image.tobytes()).hexdigest() for image in images])


def find_duplicates(images: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """Index pairs ``(i, j)`` of exactly equal images, as an ``(k, 2)`` int array.

    With ``others``: every ``images[i] == others[j]`` (copies across two splits). Without it:
    every ``i < j`` with ``images[i] == images[j]`` (copies within one set). Images are matched
    by hash and each match is confirmed by comparing the pixels. Both sets must have the same
    dtype and image shape: compare raw with raw, or scaled with scaled.
    """
    images = _as_array(images, "images")
    if images.ndim < 2:
        raise ValueError(f"images must be a batch (n, ...) of arrays, got shape {images.shape}")
    if others is not None:
        others = _as_array(others, "others")
        if others.ndim < 2 or others.shape[1:] != images.shape[1:] \
                or others.dtype != images.dtype:
            raise ValueError(
                f"compare like with like: images are {images.shape[1:]} {images.dtype}, "
                f"others are {others.shape[1:]} {others.dtype}"
            )
    by_hash: dict[str, list[int]] = {}
    for index, digest in enumerate(image_hashes(images)):
        by_hash.setdefault(digest, []).append(index)
    pairs: list[tuple[int, int]] = []
    if others is None:
        for group in by_hash.values():
            pairs += [(i, j) for n, i in enumerate(group) for j in group[n + 1:]
                      if np.array_equal(images[i], images[j])]
    else:
        for j, digest in enumerate(image_hashes(others)):
            pairs += [(i, j) for i in by_hash.get(digest, [])
                      if np.array_equal(images[i], others[j])]
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
