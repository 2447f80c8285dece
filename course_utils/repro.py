"""Reproducibility: one call sets seeds and the TensorFlow environment (chapter 2).

``configure_environment()`` only sets environment variables and imports nothing heavy, so it runs
when ``course_utils`` is imported, before TensorFlow is. ``set_seed()`` then seeds Python, NumPy
and the backend through Keras.

Why op determinism is opt-in: ``tf.config.experimental.enable_op_determinism()`` makes Keras
refuse XLA (``jit_compile=True`` falls back to ``False`` with a warning), and XLA is much of the
course's training speed on a CPU (``benchmarks/train_throughput.json`` has the measurement). On a
CPU, training is repeatable run to run without it, XLA included: same seed, same weights, bit for
bit (``tests/course_utils/test_repro.py`` trains twice in fresh processes and compares). GPU
kernels are another matter — there, pass ``strict_determinism=True``.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["DEFAULT_SEED", "configure_environment", "cpu_signature", "op_determinism_enabled",
           "set_seed"]

DEFAULT_SEED = 42

COURSE_ENVIRONMENT = {
    # Hide TensorFlow's C++ start-up chatter (INFO and WARNING); errors still show.
    "TF_CPP_MIN_LOG_LEVEL": "2",
    # oneDNN's custom operations switch on by themselves only on some CPUs (those with AVX-512
    # VNNI, for one), change the last digits there and announce it on stderr whatever the log
    # level: off, every x86 CPU runs TensorFlow's own kernels.
    "TF_ENABLE_ONEDNN_OPTS": "0",
    # Inherited by every subprocess (a new kernel, a data-loader worker): stable hash order.
    "PYTHONHASHSEED": "0",
    # The course is written for the TensorFlow backend unless a learner picks another on purpose.
    "KERAS_BACKEND": "tensorflow",
}


def configure_environment() -> None:
    """Set the course's environment variables, keeping any value the user set already."""
    for key, value in COURSE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def set_seed(seed: int = DEFAULT_SEED, *, strict_determinism: bool = False) -> None:
    """Seed Python, NumPy and the Keras backend, so that a run can be repeated exactly.

    Call it first in every notebook. ``strict_determinism=True`` also switches on TensorFlow's
    op determinism (needed for repeatable GPU runs; it rules out XLA). Results are repeatable on
    one machine and library version; another CPU or GPU can still change the last digits.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    configure_environment()
    import keras

    keras.utils.set_random_seed(seed)
    if strict_determinism and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def op_determinism_enabled() -> bool:
    """True when TensorFlow op determinism is on (then Keras does not allow XLA)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    from tensorflow.python.framework.config import is_op_determinism_enabled

    return bool(is_op_determinism_enabled())


# the instruction-set extensions that decide which arithmetic kernels a CPU runs
ARITHMETIC_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def cpu_signature(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model and arithmetic extensions: two machines that print the same one train alike.

    Read from ``/proc/cpuinfo`` on Linux; elsewhere, what ``platform`` knows of the processor.
    """
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    fields = dict(line.split(":", 1) for line in lines if ":" in line)  # the last CPU's fields
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    flags = set(fields.get("flags", "").split())
    return " ".join([fields["model name"], *(flag for flag in ARITHMETIC_FLAGS if flag in flags)])
