"""course_utils.frameworks.report: the results table, the plot, the recorded JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from course_utils import plots
from course_utils.frameworks import report, runner
from tests.support import REPO

RECORDED = REPO / "benchmarks" / "framework_comparison.json"


def _result(framework: str = "pytorch", batch_size: int = 128, seconds: float = 2.0):
    return runner.RunResult(
        framework=framework, label=runner.FRAMEWORKS[framework].label, batch_size=batch_size,
        epochs=3, samples=60_000, epoch_seconds=[5.0, seconds, seconds],
        median_epoch_seconds=seconds, samples_per_second=60_000 / seconds, peak_rss_mb=600.0,
        rss_before_training_mb=500.0, test_accuracy=0.87, code_lines=30,
    )


def test_results_table_gives_the_share_of_the_matmul_rate() -> None:
    table = report.results_table([_result(seconds=2.0)], matmul_gflops=100.0,
                                 flops_per_sample=1_000_000)
    header, _, row = table.splitlines()
    assert "of matmul" in header
    assert "30,000" in row and "30.0" in row and "30.0%" in row  # 30,000 samples/s = 30 GFLOP/s


def test_results_table_rejects_a_zero_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        report.results_table([_result()], matmul_gflops=0.0, flops_per_sample=1)


def test_plot_comparison_draws_one_bar_per_run_in_four_panels() -> None:
    import matplotlib.pyplot as plt

    fig = report.plot_comparison([_result("pytorch"), _result("numpy", seconds=4.0)])
    assert len(fig.axes) == 4
    assert all(len(ax.patches) == 2 for ax in fig.axes)
    assert fig.get_size_inches()[0] <= plots.COLUMN_WIDTH  # the book's column, legible on a phone
    assert all(ax.get_xlim()[0] == 0 for ax in fig.axes)  # bars start at zero: no inflated gaps
    accuracy = next(ax for ax in fig.axes if ax.get_title() == "test accuracy")
    assert accuracy.get_xlim()[1] >= 1.0  # the whole scale, up to a perfect score
    plt.close(fig)
    with pytest.raises(ValueError, match="no runs"):
        report.plot_comparison([])


def test_load_report_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"matmul": {"numpy_gflops": 100.0}, "training_flops_per_sample": 1,
                                "runs": [asdict(_result())]}))
    loaded = report.load_report(path)
    assert loaded["runs"] == [_result()]
    assert report.runs_at_batch_size(loaded["runs"], 32) == []
    with pytest.raises(FileNotFoundError, match="framework_comparison.py"):
        report.load_report(tmp_path / "missing.json")
    path.write_text(json.dumps({"runs": []}))
    with pytest.raises(ValueError, match="lacks"):
        report.load_report(path)


def test_recorded_comparison_is_complete_and_matches_the_installed_versions() -> None:
    import importlib

    recorded = report.load_report(RECORDED)
    assert not recorded["quick"], "commit the full run (make bench), not --quick"
    measured = {(run.framework, run.batch_size) for run in recorded["runs"]}
    assert {(key, 128) for key in runner.FRAMEWORKS} <= measured
    assert {("keras-tensorflow", 32), ("pytorch", 32)} <= measured
    for run in recorded["runs"]:
        assert run.samples == 60_000 and run.epochs >= 3
        assert run.code_lines == runner.code_lines(
            *runner.code_functions(runner.FRAMEWORKS[run.framework])
        ), f"{run.label}: the code changed since the recording: run make bench again"
        for package, version in run.versions.items():
            if package != "python":
                installed = importlib.import_module(package).__version__
                assert installed == version, (
                    f"{run.label} was recorded with {package} {version}: run make bench again"
                )
