"""Compile and fit with defaults that keep CPU overhead low (chapter 4).

Why these defaults: the course's dense networks need about one MFLOP per training sample, so a
batch of 32 is a few dozen MFLOP — well under a millisecond of arithmetic on a laptop core. Left
alone, Keras pays a fixed cost per step (a Python call into a ``tf.function``, launching each op
separately) that is larger than that arithmetic. Two settings remove most of it:

* ``jit_compile=True`` compiles the whole train step with XLA, fusing the many small ops of a
  dense layer (matmul, bias add, activation, their gradients, the Adam update) into few kernels.
* ``steps_per_execution=N`` runs N train steps inside one compiled call, so the Python cost is
  paid once per N batches. The price: callbacks and the progress bar see batches N at a time.

Neither changes the mathematics: the same batches, in the same order, with the same updates.
``benchmarks/train_throughput.py`` measures the gain on your machine (on the 2-core machine the
course is tested on, 2.5× at batch size 32 and 1.9× at 128 for the 784-256-128-10 network).

XLA is not allowed while TensorFlow op determinism is on (``repro.set_seed(...,
strict_determinism=True)``); ``compile_model`` then compiles without it instead of letting Keras
print a warning.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from course_utils import repro

__all__ = [
    "DEFAULT_STEPS_PER_EXECUTION",
    "EpochTimer",
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
    if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be a positive int, got {steps_per_execution!r}")
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=list(metrics),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch in ``self.seconds``."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


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
