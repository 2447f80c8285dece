"""Reproducibility: one call sets seeds and the TensorFlow environment (chapter 2).

``configure_environment()`` only sets environment variables and imports nothing heavy, so it runs
when ``course_utils`` is imported, before TensorFlow is. ``set_seed()`` then seeds Python, NumPy
and the backend through Keras and switches on deterministic TensorFlow ops.
"""

from __future__ import annotations

import os

__all__ = ["DEFAULT_SEED", "configure_environment", "set_seed"]

DEFAULT_SEED = 42

COURSE_ENVIRONMENT = {
    # Hide TensorFlow's C++ start-up chatter (INFO and WARNING); errors still show.
    "TF_CPP_MIN_LOG_LEVEL": "2",
    # Inherited by every subprocess (a new kernel, a data-loader worker): stable hash order.
    "PYTHONHASHSEED": "0",
    # The course is written for the TensorFlow backend unless a learner picks another on purpose.
    "KERAS_BACKEND": "tensorflow",
}


def configure_environment() -> None:
    """Set the course's environment variables, keeping any value the user set already."""
    for key, value in COURSE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def set_seed(seed: int = DEFAULT_SEED, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the Keras backend; make TensorFlow ops deterministic.

    Call it first in every notebook. Determinism holds on one machine and library version;
    another CPU (other SIMD paths) or GPU can still change the last digits.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    configure_environment()
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
