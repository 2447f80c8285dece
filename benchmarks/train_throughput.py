"""Training throughput of the chapter 4 MLP: Keras defaults against the course defaults.

What is measured
----------------
The 784-256-128-10 MLP (``course_utils.models.baseline_mlp``) is trained on Fashion-MNIST
(float32 pixels in [0, 1], flattened to 784, one-hot labels) in four configurations:

* ``keras-defaults``: ``model.compile(optimizer="adam", loss="categorical_crossentropy",
  metrics=["accuracy"])``, i.e. Keras 3's ``jit_compile="auto"`` and ``steps_per_execution=1``;
* ``course-defaults``: ``course_utils.train.compile_model(model)``, i.e. ``jit_compile=True`` and
  ``steps_per_execution=DEFAULT_STEPS_PER_EXECUTION``;

each at batch sizes 32 and 128. Every configuration is seeded with ``course_utils.repro.set_seed``,
builds a fresh model, runs one warm-up epoch (tracing and compilation, reported on its own) and
then ``--epochs`` measured epochs, timed with ``course_utils.train.EpochTimer``. Throughput is
``samples / median epoch seconds``.

For scale, the script also measures this machine's float32 matrix-multiply rate on large square
matrices, with NumPy (its BLAS) and with ``tf.linalg.matmul`` (the kernels Keras runs on), and
turns each throughput into GFLOP/s with the model's FLOPs per training sample.

How to read it
--------------
* ``speed-up`` is course/keras-defaults samples per second at the same batch size. Both configs do
  the same arithmetic, so the ratio is the per-step overhead that the course defaults remove.
* ``% numpy`` / ``% tf`` is the achieved GFLOP/s as a share of the matmul rate: an upper bound on
  what dense layers can reach here. Small batches stay far below it because per-step overhead,
  not arithmetic, dominates; a share near 100 % would mean the arithmetic is the limit.
* ``jit`` is the ``jit_compile`` the model actually ended up with. Keras silently falls back to
  ``False`` when op determinism is on (``--strict-determinism``; ``compile_model`` then asks for
  ``False`` itself), and ``"auto"`` resolves to ``False`` on CPU-only machines.
* Timings are wall-clock on a shared machine: other load lowers them, so compare runs made under
  the same conditions and look at ``epoch_seconds`` in the JSON for the spread.

Run it with ``make bench`` (all 60,000 samples, minutes on a laptop) or ``--quick`` (seconds).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

# Importing course_utils sets TF_CPP_MIN_LOG_LEVEL and KERAS_BACKEND; TensorFlow loads after it.
from course_authoring.benchmark_reports import write_report
from course_utils import data, models, repro, train
from course_utils.flops import forward_flops, matmul_rate, square_matrices, training_flops
from course_utils.frameworks.implementations import LAYER_SIZES

if TYPE_CHECKING:
    import keras

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "train_throughput.json"
DEFAULT_BATCH_SIZES = (32, 128)
DEFAULT_EPOCHS = 5
MATMUL_N = 2048
MATMUL_REPEATS = 5
QUICK_SAMPLES = 2048
QUICK_EPOCHS = 1
QUICK_MATMUL_N = 512

N_CLASSES = LAYER_SIZES[-1]

# FLOPs per training sample: matmuls only, forward and backward, without the input gradient of
# the first layer that nobody needs (course_utils.flops explains the count); the usual rule
# "training costs three forward passes" is kept beside it for comparison.
FORWARD_FLOPS = forward_flops(LAYER_SIZES)
TRAINING_FLOPS = training_flops(LAYER_SIZES)
TRAINING_FLOPS_3X_FORWARD = 3 * FORWARD_FLOPS


@dataclass(frozen=True)
class Config:
    """One way of compiling the model."""

    name: str
    compile_fn: Callable[[keras.Model], Any]
    jit_compile_requested: str | bool
    steps_per_execution: int


def compile_keras_defaults(model: keras.Model) -> None:
    """Compile the way the Keras documentation does, leaving every speed setting at default."""
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])


CONFIGS = (
    Config("keras-defaults", compile_keras_defaults, "auto", 1),
    Config("course-defaults", train.compile_model, True, train.DEFAULT_STEPS_PER_EXECUTION),
)


@dataclass
class Result:
    """Timings of one configuration at one batch size."""

    config: str
    batch_size: int
    jit_compile_requested: str | bool
    jit_compile_effective: bool
    steps_per_execution: int
    samples: int
    warmup_seconds: float
    epoch_seconds: list[float]
    median_epoch_seconds: float
    samples_per_second: float
    gflops: float
    share_of_numpy_matmul: float
    share_of_tf_matmul: float
    final_loss: float


def load_training_data(samples: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST training images as float32 (n, 784) in [0, 1] and one-hot float32 labels."""
    (x_train, y_train), _ = data.load_dataset("fashion_mnist")
    if samples is not None:
        x_train, y_train = x_train[:samples], y_train[:samples]
    x = x_train.reshape(len(x_train), -1).astype(np.float32) / np.float32(255.0)
    y = np.eye(N_CLASSES, dtype=np.float32)[y_train]
    return x, y


def measure_matmul(n: int, repeats: int) -> dict[str, Any]:
    """Float32 n x n matmul rates of NumPy and of TensorFlow on this machine."""
    import tensorflow as tf

    a, b = square_matrices(n)
    ta, tb = tf.constant(a), tf.constant(b)
    return {
        "n": n,
        "repeats": repeats,
        "numpy": matmul_rate(lambda: a @ b, n, repeats),
        # .numpy() waits for the result, so the timing covers the whole matmul.
        "tensorflow": matmul_rate(lambda: tf.linalg.matmul(ta, tb).numpy(), n, repeats),
    }


def run_config(
    config: Config,
    batch_size: int,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    seed: int,
    strict_determinism: bool,
) -> tuple[keras.Model, list[float], float]:
    """Train a fresh model for 1 warm-up + ``epochs`` epochs; return it, epoch times, last loss."""
    repro.set_seed(seed, strict_determinism=strict_determinism)
    model = models.baseline_mlp()
    config.compile_fn(model)
    timer = train.EpochTimer()
    history = model.fit(
        x, y, epochs=1 + epochs, batch_size=batch_size, verbose=0, callbacks=[timer]
    )
    return model, timer.seconds, float(history.history["loss"][-1])


def summarize(
    config: Config,
    batch_size: int,
    model: keras.Model,
    seconds: list[float],
    final_loss: float,
    samples: int,
    matmul: dict[str, Any],
) -> Result:
    """Turn the epoch times of one run into throughput and roofline shares."""
    median = statistics.median(seconds[1:])
    rate = samples / median
    gflops = rate * TRAINING_FLOPS / 1e9
    return Result(
        config=config.name,
        batch_size=batch_size,
        jit_compile_requested=config.jit_compile_requested,
        jit_compile_effective=bool(model.jit_compile),
        steps_per_execution=int(model.steps_per_execution),
        samples=samples,
        warmup_seconds=seconds[0],
        epoch_seconds=seconds[1:],
        median_epoch_seconds=median,
        samples_per_second=rate,
        gflops=gflops,
        share_of_numpy_matmul=gflops / matmul["numpy"]["gflops_best"],
        share_of_tf_matmul=gflops / matmul["tensorflow"]["gflops_best"],
        final_loss=final_loss,
    )


def speedups(results: Sequence[Result]) -> dict[str, float]:
    """course-defaults / keras-defaults samples per second, keyed by batch size."""
    rates = {(r.config, r.batch_size): r.samples_per_second for r in results}
    base, fast = CONFIGS[0].name, CONFIGS[1].name
    return {
        str(bs): rates[(fast, bs)] / rates[(base, bs)]
        for bs in sorted({r.batch_size for r in results})
        if (fast, bs) in rates and (base, bs) in rates
    }


def blas_info() -> list[dict[str, Any]] | None:
    """threadpoolctl's description of the BLAS and OpenMP libraries loaded, if it is installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    # the file names say which library; their folders are this machine's and stay out of the JSON
    return [{**pool, "filepath": Path(pool["filepath"]).name} for pool in threadpool_info()]


def machine_info() -> dict[str, Any]:
    """CPU count, platform and library versions."""
    import keras
    import tensorflow as tf

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "tf_devices": [d.device_type for d in tf.config.list_physical_devices()],
        "threadpoolctl": blas_info(),
    }


def model_info() -> dict[str, Any]:
    """Architecture and FLOP counts of the benchmarked model."""
    return {
        "name": "baseline_mlp",
        "layer_sizes": list(LAYER_SIZES),
        "parameters": models.dense_param_count(LAYER_SIZES),
        "forward_flops_per_sample": FORWARD_FLOPS,
        "training_flops_per_sample": TRAINING_FLOPS,
        "training_flops_per_sample_3x_forward": TRAINING_FLOPS_3X_FORWARD,
    }


def format_table(
    results: Sequence[Result], matmul: dict[str, Any], ratios: dict[str, float]
) -> str:
    """A plain-text table of the results, with the matmul rates and speed-ups."""
    numpy_rate, tf_rate = matmul["numpy"]["gflops_best"], matmul["tensorflow"]["gflops_best"]
    lines = [
        f"float32 matmul n={matmul['n']}: NumPy {numpy_rate:.1f} GFLOP/s, "
        f"TensorFlow {tf_rate:.1f} GFLOP/s (best of {matmul['repeats']})",
        f"training FLOPs/sample: {TRAINING_FLOPS / 1e6:.3f} M "
        f"(3x forward would be {TRAINING_FLOPS_3X_FORWARD / 1e6:.3f} M)",
        "",
        f"{'config':<16}{'batch':>6}{'jit':>6}{'spe':>5}{'warm-up s':>11}{'epoch s':>9}"
        f"{'samples/s':>11}{'GFLOP/s':>9}{'% numpy':>9}{'% tf':>7}{'loss':>8}",
    ]
    for r in results:
        lines.append(
            f"{r.config:<16}{r.batch_size:>6}{str(r.jit_compile_effective):>6}"
            f"{r.steps_per_execution:>5}{r.warmup_seconds:>11.2f}{r.median_epoch_seconds:>9.2f}"
            f"{r.samples_per_second:>11,.0f}{r.gflops:>9.2f}{100 * r.share_of_numpy_matmul:>8.1f}%"
            f"{100 * r.share_of_tf_matmul:>6.1f}%{r.final_loss:>8.4f}"
        )
    lines.append("")
    lines += [f"speed-up course/keras at batch {bs}: {ratio:.2f}x" for bs, ratio in ratios.items()]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; ``--quick`` fills in small values for any option left unset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, help="training samples (default: all 60,000)")
    parser.add_argument("--epochs", type=int, help=f"measured epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=list(DEFAULT_BATCH_SIZES),
        help="batch sizes to measure (default: 32 128)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    parser.add_argument(
        "--quick", action="store_true",
        help=f"tiny run: {QUICK_SAMPLES} samples, {QUICK_EPOCHS} epoch, matmul n={QUICK_MATMUL_N}",
    )
    parser.add_argument("--seed", type=int, default=repro.DEFAULT_SEED, help="seed for set_seed")
    parser.add_argument(
        "--strict-determinism", action="store_true",
        help="seed with TensorFlow op determinism on (Keras then cannot use XLA)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.samples = QUICK_SAMPLES if args.samples is None else args.samples
        args.epochs = QUICK_EPOCHS if args.epochs is None else args.epochs
    args.epochs = DEFAULT_EPOCHS if args.epochs is None else args.epochs
    args.matmul_n = QUICK_MATMUL_N if args.quick else MATMUL_N
    for name in ("samples", "epochs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be at least 1, got {value}")
    if any(bs < 1 for bs in args.batch_sizes):
        parser.error(f"--batch-sizes must be positive, got {args.batch_sizes}")
    return args


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement and return the report as a JSON-ready dict."""
    x, y = load_training_data(args.samples)
    matmul = measure_matmul(args.matmul_n, MATMUL_REPEATS)
    results = []
    for batch_size in args.batch_sizes:
        for config in CONFIGS:
            print(f"training {config.name} at batch {batch_size} ...", flush=True)
            model, seconds, loss = run_config(
                config, batch_size, x, y,
                epochs=args.epochs, seed=args.seed, strict_determinism=args.strict_determinism,
            )
            results.append(summarize(config, batch_size, model, seconds, loss, len(x), matmul))
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "samples": len(x),
            "measured_epochs": args.epochs,
            "batch_sizes": args.batch_sizes,
            "seed": args.seed,
            "strict_determinism": args.strict_determinism,
            "quick": args.quick,
        },
        "machine": machine_info(),
        "model": model_info(),
        "matmul": matmul,
        "results": [asdict(r) for r in results],
        "speedup_course_over_keras": speedups(results),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and write the JSON report."""
    args = parse_args(argv)
    report = benchmark(args)
    results = [Result(**r) for r in report["results"]]
    print()
    print(format_table(results, report["matmul"], report["speedup_course_over_keras"]))
    if any(r.jit_compile_requested is True and not r.jit_compile_effective for r in results):
        print("\nnote: Keras turned jit_compile=True off because op determinism is on "
              "(--strict-determinism).")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.output, report, "benchmarks/train_throughput.py")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
