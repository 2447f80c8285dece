"""FLOPs: the arithmetic cost of dense layers and this machine's matmul rate (chapters 4, 7, 8).

A dense layer's work is a matrix multiplication. One sample through a layer of ``n_in`` inputs and
``n_out`` units costs ``n_in * n_out`` multiply-adds, i.e. ``2 * n_in * n_out`` FLOPs. Training adds
two more matmuls per layer in the backward pass: the weight gradient ``x^T @ dy`` (as costly as the
forward matmul) and the input gradient ``dy @ W^T`` (the same again), except for the first layer,
whose input gradient nobody needs: TensorFlow and PyTorch skip it. For the 784-256-128-10 MLP that
is 1,007,104 FLOPs per training sample, against 3 x 469,504 = 1,408,512 for the "training costs
three forward passes" rule. Bias adds, activations, the loss and the optimizer's update are small
next to the matmuls and are left out.

``matmul_rate`` measures how many FLOPs per second a square float32 matmul reaches here: the upper
bound for dense layers, against which a training run's achieved rate can be put as a share.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "forward_flops",
    "matmul_macs",
    "matmul_rate",
    "numpy_matmul_rate",
    "square_matrices",
    "time_repeats",
    "training_flops",
]


def matmul_macs(layer_sizes: Sequence[int]) -> list[int]:
    """Multiply-adds of each dense layer's matmul for one sample."""
    if len(layer_sizes) < 2 or any(int(n) < 1 for n in layer_sizes):
        raise ValueError(f"need at least two positive layer sizes, got {list(layer_sizes)}")
    return [n_in * n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:])]


def forward_flops(layer_sizes: Sequence[int]) -> int:
    """Forward-pass FLOPs of one sample through a stack of dense layers."""
    return 2 * sum(matmul_macs(layer_sizes))


def training_flops(layer_sizes: Sequence[int]) -> int:
    """Forward, weight gradients, and input gradients of every layer but the first (see above)."""
    macs = matmul_macs(layer_sizes)
    return 2 * (sum(macs) + sum(macs) + sum(macs[1:]))


def time_repeats(run: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``run``, after one untimed warm-up call."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    run()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return seconds


def matmul_rate(run: Callable[[], object], n: int, repeats: int) -> dict[str, Any]:
    """GFLOP/s of ``run``, an ``n x n`` by ``n x n`` matmul (2 n^3 FLOPs): best and median."""
    seconds = time_repeats(run, repeats)
    flops = 2 * n**3
    return {
        "gflops_best": flops / min(seconds) / 1e9,
        "gflops_median": flops / statistics.median(seconds) / 1e9,
        "seconds": seconds,
    }


def square_matrices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two seeded random float32 ``n x n`` matrices, the operands of a matmul-rate measurement."""
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, n), dtype=np.float32),
            rng.standard_normal((n, n), dtype=np.float32))


def numpy_matmul_rate(n: int = 2048, repeats: int = 5) -> dict[str, Any]:
    """Float32 matmul rate of NumPy (its BLAS) on this machine, for ``n x n`` matrices."""
    a, b = square_matrices(n)
    return {"n": n, "repeats": repeats, **matmul_rate(lambda: a @ b, n, repeats)}
