"""What XLA (``jit_compile=True``) costs and saves on this CPU, for chapters 6 and 8.

What is measured
----------------
Chapters 6 and 8 compile their models without XLA and say why; this script records the evidence:

* ``random_numbers``: the seconds to draw 49,152 uniform random numbers (the dropout masks of one
  batch of 128 through layers of 256 and 128 units) with TensorFlow's own kernel and inside an
  XLA-compiled function, best of ``--repeats`` after a warm-up;
* ``compile``: chapter 6's small setting (the 784-256-128-10 network, 1,000 images, batch size
  32): the first epoch, which includes building the compiled step, and the median later epoch,
  with and without XLA;
* ``dense_dropout``: an epoch of that network with ``Dropout(0.3)`` on 54,000 images at batch
  size 128, with and without XLA;
* ``convolutions``: an epoch of chapter 8's two convolutions (32 and 64 filters of 3×3, each
  followed by a 2×2 pooling, no batch normalization) on 10,000 images at batch size 128, with
  and without XLA.

Epoch times are the median of the epochs after the first (the first includes compiling). Run it
with ``python benchmarks/xla_on_cpu.py`` (a few minutes on two cores) or ``--quick`` (a smoke
test on a few hundred images; its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Importing course_utils sets TensorFlow's log level and the Keras backend before TensorFlow loads.
from course_authoring.benchmark_reports import quick_parser, report_header, write_report
from course_utils import data, flops, models, preprocess, repro, train

OUTPUT = Path(__file__).with_suffix(".json")
MASK_SIZE = 128 * (256 + 128)  # one batch of 128 through dropout after 256 and 128 units


def random_numbers(repeats: int) -> dict[str, float]:
    """Best seconds to draw MASK_SIZE uniform numbers, TensorFlow's kernel against XLA's."""
    import tensorflow as tf

    def draw(seed: tf.Tensor) -> tf.Tensor:
        return tf.random.stateless_uniform((MASK_SIZE,), seed=seed)

    seed = tf.constant([1, 2], dtype=tf.int64)
    timings = {}
    for label, function in [("tensorflow", tf.function(draw, jit_compile=False)),
                            ("xla", tf.function(draw, jit_compile=True))]:
        timings[f"{label}_seconds"] = min(
            flops.time_repeats(lambda f=function: f(seed).numpy(), repeats=repeats))
    return timings


def epoch_times(build: Callable[[], Any], x: np.ndarray, y: np.ndarray, batch_size: int,
                epochs: int, jit_compile: bool) -> dict[str, float]:
    """The first epoch and the median later epoch of one training run, in seconds."""
    import keras

    keras.utils.clear_session()
    repro.set_seed(42)
    model = build()
    train.compile_model(model, jit_compile=jit_compile)
    timer = train.EpochTimer()
    train.fit(model, x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return {"first_epoch_seconds": round(timer.seconds[0], 3),
            "median_epoch_seconds": round(float(np.median(timer.seconds[1:])), 3)}


def with_and_without(build: Callable[[], Any], x: np.ndarray, y: np.ndarray, batch_size: int,
                     epochs: int) -> dict[str, dict[str, float]]:
    """``epoch_times`` with XLA and without, one after the other."""
    return {label: epoch_times(build, x, y, batch_size, epochs, jit_compile)
            for label, jit_compile in [("xla", True), ("no_xla", False)]}


def small_cnn_base() -> Any:
    """Chapter 8's two convolution blocks without batch normalization, and a softmax head."""
    return models.small_cnn((32, 64), batch_norm=False, dropout=0.0)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` is a smoke test whose numbers mean nothing."""
    parser = quick_parser(__doc__.splitlines()[0], OUTPUT)
    parser.add_argument("--repeats", type=int, default=20)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each comparison and write the JSON report."""
    args = parse_args(argv)
    (images, labels), _ = data.load_dataset("fashion_mnist")
    y_all = preprocess.one_hot(labels, 10)
    flat = preprocess.flatten_images(preprocess.scale_images(images))
    n_small, n_dense, n_conv, epochs = (200, 600, 300, 2) if args.quick else (1000, 54_000,
                                                                              10_000, 3)
    report: dict[str, Any] = {
        **report_header(args.quick),
        "settings": {"random_numbers": MASK_SIZE, "repeats": args.repeats, "epochs": epochs,
                     "small_images": n_small, "dense_images": n_dense, "conv_images": n_conv},
        "random_numbers": random_numbers(args.repeats),
    }
    print("random numbers: done", flush=True)
    report["compile"] = with_and_without(lambda: models.mlp(name="small"), flat[:n_small],
                                         y_all[:n_small], 32, epochs)
    print("compile: done", flush=True)
    report["dense_dropout"] = with_and_without(lambda: models.mlp(dropout=0.3, name="dropout"),
                                               flat[:n_dense], y_all[:n_dense], 128, epochs)
    print("dense with dropout: done", flush=True)
    square = preprocess.scale_images(images[:n_conv])[..., np.newaxis]
    report["convolutions"] = with_and_without(small_cnn_base, square, y_all[:n_conv], 128, epochs)
    print("convolutions: done", flush=True)
    write_report(args.output, report, "benchmarks/xla_on_cpu.py")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
