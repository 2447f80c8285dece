"""Compile and fit with defaults that keep CPU overhead low, and training callbacks (chapter 4).

Why these defaults: the course's dense networks need about one MFLOP per training sample, so a
batch of 32 is a few dozen MFLOP — well under a millisecond of arithmetic on a laptop core. Left
alone, Keras pays a fixed cost per step (a Python call into a ``tf.function``, launching each op
separately) that is larger than that arithmetic. Two settings remove most of it:

* ``jit_compile=True`` compiles the whole train step with XLA, fusing the many small ops of a
  dense layer (matmul, bias add, activation, their gradients, the Adam update) into few kernels.
* ``steps_per_execution=N`` runs N train steps inside one compiled call, so the Python cost is
  paid once per N batches. The price: callbacks and the progress bar see batches N at a time.

Neither changes the mathematics: the same batches, in the same order, with the same updates.
``benchmarks/train_throughput.py`` measures the gain (``benchmarks/train_throughput.json``).

XLA is not allowed while TensorFlow op determinism is on (``repro.set_seed(...,
strict_determinism=True)``); ``compile_model`` then compiles without it instead of letting Keras
print a warning.

``EpochTimer`` records how long each epoch took; ``TimeBudget`` (chapter 6) also stops training
before a time limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from course_utils import repro
from course_utils._checks import positive_int

__all__ = [
    "DEFAULT_STEPS_PER_EXECUTION",
    "EpochTimer",
    "TimeBudget",
    "compile_model",
    "fit",
]

DEFAULT_STEPS_PER_EXECUTION = 32


def compile_model(
    model: keras.Model,
    *,
    loss: str | keras.losses.Loss = "categorical_crossentropy",
    optimizer: str | keras.optimizers.Optimizer = "adam",
    metrics: Sequence[Any] = ("accuracy",),
    jit_compile: bool | None = None,
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
) -> keras.Model:
    """Compile ``model`` with the course's fast defaults and return it.

    ``jit_compile=None`` means XLA unless op determinism rules it out (see the module docstring).
    """
    if jit_compile is None:
        jit_compile = not repro.op_determinism_enabled()
    positive_int(steps_per_execution, "steps_per_execution")
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=list(metrics),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch in ``self.seconds`` (chapter 4)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.seconds = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._epoch_start)


class TimeBudget(EpochTimer):
    """Stops ``fit`` when another epoch would likely overrun ``limit_seconds`` (chapter 6).

    After each epoch it compares the time used so far plus the longest epoch so far with the
    budget. ``self.elapsed`` holds the seconds used and ``self.stopped`` whether the budget
    ended the training.
    """

    def __init__(self, limit_seconds: float) -> None:
        super().__init__()
        if not limit_seconds > 0:
            raise ValueError(f"the budget must be a positive number of seconds, "
                             f"got {limit_seconds!r}")
        self.limit_seconds = float(limit_seconds)
        self.elapsed = 0.0
        self.stopped = False
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self._start = time.perf_counter()
        self.elapsed, self.stopped = 0.0, False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        self.elapsed = time.perf_counter() - self._start
        if self.elapsed + max(self.seconds) > self.limit_seconds:
            self.stopped = True
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self.elapsed = time.perf_counter() - self._start


def fit(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    verbose: int = 2,
    **kwargs: Any,
) -> keras.callbacks.History:
    """``model.fit`` with the course's defaults (one log line per epoch) and input checks."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model first, e.g. with course_utils.train.compile_model")
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, **kwargs)
