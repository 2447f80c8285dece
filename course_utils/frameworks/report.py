"""Tables and a figure for the framework comparison, from results or from its JSON (chapter 7).

``benchmarks/framework_comparison.py`` writes a JSON report: the machine's matmul rate, the
training FLOPs per sample and one entry per run (``runner.RunResult``). ``load_report`` reads it
back, ``results_table`` prints a fixed-width table and ``plot_comparison`` draws one bar chart per
measured quantity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from course_utils.frameworks.runner import RunResult
from course_utils.plots import COLUMN_WIDTH, SMALL_TEXT, book_style

__all__ = ["load_report", "plot_comparison", "results_table", "runs_at_batch_size"]

REQUIRED_KEYS = ("matmul", "training_flops_per_sample", "runs")


def load_report(path: str | Path) -> dict[str, Any]:
    """The JSON report with its ``runs`` turned into ``RunResult`` objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no comparison report at {path}: run "
                                "`python benchmarks/framework_comparison.py` (or `make bench`)")
    report = json.loads(path.read_text())
    missing = [key for key in REQUIRED_KEYS if key not in report]
    if missing:
        raise ValueError(f"{path} is not a framework-comparison report: it lacks {missing}")
    report["runs"] = [RunResult(**run) for run in report["runs"]]
    return report


def runs_at_batch_size(runs: Sequence[RunResult], batch_size: int) -> list[RunResult]:
    """The runs made with ``batch_size``, in their original order."""
    return [run for run in runs if run.batch_size == batch_size]


def results_table(runs: Sequence[RunResult], matmul_gflops: float,
                  flops_per_sample: float) -> str:
    """One line per run: speed, share of the matmul rate, memory, accuracy and lines of code.

    The share is the FLOPs the run achieved per second (``flops_per_sample`` times samples per
    second) divided by ``matmul_gflops``, the machine's float32 matmul rate.
    """
    if matmul_gflops <= 0 or flops_per_sample <= 0:
        raise ValueError("the matmul rate and the FLOPs per sample must be positive")
    width = max(len("framework"), *(len(run.label) for run in runs)) + 1
    header = (f"{'framework':<{width}}{'batch':>6}{'s/epoch':>9}{'samples/s':>11}{'GFLOP/s':>9}"
              f"{'of matmul':>10}{'peak MB':>9}{'test acc':>9}{'lines':>6}")
    lines = [header, "-" * len(header)]
    for run in runs:
        gflops = flops_per_sample * run.samples_per_second / 1e9
        lines.append(
            f"{run.label:<{width}}{run.batch_size:>6}{run.median_epoch_seconds:>9.2f}"
            f"{run.samples_per_second:>11,.0f}{gflops:>9.1f}{gflops / matmul_gflops:>10.1%}"
            f"{run.peak_rss_mb:>9,.0f}{run.test_accuracy:>9.4f}{run.code_lines:>6}"
        )
    return "\n".join(lines)


def plot_comparison(runs: Sequence[RunResult], title: str = "") -> Figure:
    """Four horizontal bar charts, one bar per run: seconds per epoch (median), peak memory,
    test accuracy and lines of model-and-training code."""
    if not runs:
        raise ValueError("no runs to plot")
    panels = [
        ("s/epoch (median)", [run.median_epoch_seconds for run in runs], "{:.2f}"),
        ("peak memory (MB)", [run.peak_rss_mb for run in runs], "{:,.0f}"),
        ("test accuracy", [run.test_accuracy for run in runs], "{:.3f}"),
        ("lines of code", [run.code_lines for run in runs], "{:d}"),
    ]
    labels = [f"{run.label} ({run.batch_size})" for run in runs]
    with book_style():  # two panels a row: the book's column, legible on a phone
        fig, axes = plt.subplots(2, 2, figsize=(COLUMN_WIDTH, 2 * (0.4 * len(runs) + 1.3)),
                                 sharey=True)
        for ax, (name, values, fmt) in zip(axes.flat, panels):
            bars = ax.barh(range(len(runs)), values, color="tab:blue")
            ax.bar_label(bars, labels=[fmt.format(value) for value in values], padding=2,
                         fontsize=SMALL_TEXT)
            ax.set_title(name, fontsize=SMALL_TEXT)
            ax.set_xlim(0, 1.2 if name == "test accuracy" else (max(values) * 1.4 or 1))
        axes[0][0].set_yticks(range(len(runs)), labels)
        axes[0][0].invert_yaxis()
        if title:
            fig.suptitle(title, fontsize=SMALL_TEXT, wrap=True)
    fig.tight_layout()
    return fig
