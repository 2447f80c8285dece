"""The chapter 7 comparison: one MLP trained by Keras 3 (TensorFlow, JAX, PyTorch backends),
plain PyTorch and NumPy, measured on this machine.

What is measured
----------------
Each configuration trains the 784-256-128-10 MLP on all 60,000 Fashion-MNIST training images with
the same recipe (``course_utils.frameworks.implementations``: Glorot-uniform weights, Adam 0.001,
shuffled mini-batches) in a fresh process, one configuration after the other, never in parallel.
Per run: the median seconds of the epochs after the first (the first includes compilation), peak
resident memory, test accuracy on the 10,000 test images and the lines of model-and-training
code. Keras on PyTorch runs twice: eagerly (``jit_compile=False``) and compiled with
``torch.compile`` (``jit_compile=True``). Every configuration runs at batch size 128; the three
fastest also at 32, the batch size of chapter 4.
NumPy's float32 matmul rate is measured in this process before and after the runs (the better of
the two is used), so each run's achieved GFLOP/s can be given as a share of it.

Run it with ``make bench`` (``total_seconds`` in the report says how long it took) and
re-execute chapter 7 afterwards (``make execute``): the chapter shows this file's results, and
nbval checks that it does.
``--quick`` (a few thousand images, 2 epochs, PyTorch and NumPy only) is the smoke test.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from course_authoring.benchmark_reports import write_report
from course_utils import flops
from course_utils.frameworks import implementations, report, runner

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "framework_comparison.json"
FULL_EPOCHS = 5
FULL_RUNS = [(key, 128) for key in runner.FRAMEWORKS] + [
    ("keras-tensorflow", 32), ("keras-jax", 32), ("pytorch", 32),
]
QUICK_RUNS = [("pytorch", 128), ("numpy", 128)]
QUICK_SAMPLES, QUICK_EPOCHS, QUICK_MATMUL_N = 4096, 2, 512


def measure(quick: bool) -> dict:
    """Run every configuration and return the report as a JSON-ready dict."""
    started = time.perf_counter()
    matmul_n = QUICK_MATMUL_N if quick else 2048
    matmul_before = flops.numpy_matmul_rate(matmul_n)
    runs = []
    for key, batch_size in QUICK_RUNS if quick else FULL_RUNS:
        config = runner.RunConfig(
            key, batch_size=batch_size, epochs=QUICK_EPOCHS if quick else FULL_EPOCHS,
            samples=QUICK_SAMPLES if quick else None,
        )
        result = runner.run(config)
        print(f"{result.label:<24} batch {batch_size:>3}: "
              f"{result.median_epoch_seconds:6.2f} s/epoch, "
              f"test accuracy {result.test_accuracy:.4f}", flush=True)
        runs.append(result)
    matmul_after = flops.numpy_matmul_rate(matmul_n)
    best = max(matmul_before["gflops_best"], matmul_after["gflops_best"])
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count()},
        "quick": quick,
        "matmul": {"n": matmul_n, "numpy_gflops": best,
                   "before": matmul_before["gflops_best"], "after": matmul_after["gflops_best"]},
        "training_flops_per_sample": flops.training_flops(implementations.LAYER_SIZES),
        "total_seconds": round(time.perf_counter() - started, 1),
        "runs": [asdict(run) for run in runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: seconds, not minutes")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        result = measure(args.quick)
    except runner.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_report(args.output, result, "benchmarks/framework_comparison.py", indent=1)
    loaded = report.load_report(args.output)
    print(report.results_table(loaded["runs"], loaded["matmul"]["numpy_gflops"],
                               loaded["training_flops_per_sample"]))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
