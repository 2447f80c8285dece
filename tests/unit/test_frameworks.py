"""course_utils.frameworks: line counting, run configuration, reports; one real run per kind."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from course_utils.frameworks import implementations, report, runner

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "benchmarks" / "framework_comparison.json"


def _sample(a: int) -> int:
    """A docstring, not counted."""
    # a comment, not counted

    b = a + 1  # code with a comment: counted
    return (b
            * 2)


def test_code_lines_counts_code_only() -> None:
    assert runner.code_lines(_sample) == 4  # def, assignment, and a return spread over two lines


def test_code_lines_of_the_frameworks() -> None:
    counts = {key: runner.code_lines(*runner.code_functions(framework))
              for key, framework in runner.FRAMEWORKS.items()}
    assert counts["keras-tensorflow"] == counts["keras-jax"] == counts["keras-torch"]
    assert counts["keras-tensorflow"] < counts["pytorch"] < counts["numpy"]


@pytest.mark.parametrize("kwargs, message", [
    ({"framework": "caffe"}, "unknown framework"),
    ({"framework": "numpy", "epochs": 1}, "at least 2 epochs"),
    ({"framework": "numpy", "batch_size": 256, "samples": 100}, "do not fit"),
])
def test_run_config_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        runner.RunConfig(**kwargs)


@pytest.mark.parametrize("key", ["pytorch", "numpy"])
def test_run_trains_in_a_fresh_process_and_measures(key: str) -> None:
    result = runner.run(runner.RunConfig(key, batch_size=64, epochs=2, samples=1024))
    assert result.framework == key and result.samples == 1024
    assert len(result.epoch_seconds) == 2 and result.median_epoch_seconds > 0
    assert result.samples_per_second == pytest.approx(1024 / result.median_epoch_seconds)
    assert 0.3 < result.test_accuracy < 1.0  # learned something from 1,024 images
    assert result.peak_rss_mb >= result.rss_before_training_mb > 10
    assert "numpy" in result.versions


def test_torch_and_keras_start_from_the_same_initialisation() -> None:
    import torch

    model = implementations.build_torch(seed=0)
    linear = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
    assert [layer.weight.shape[1] for layer in linear] == [784, 256, 128]
    for layer in linear:
        fan_out, fan_in = layer.weight.shape
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert float(layer.weight.detach().abs().max()) <= limit
        assert float(layer.bias.detach().abs().max()) == 0.0


def test_numpy_training_lowers_the_loss() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    labels = (x[:, :10].argmax(axis=1)).astype(np.int64)  # a learnable rule
    params = implementations.build_numpy(seed=0)
    before = np.mean(implementations.predict_numpy(params, x) == labels)
    epochs_done = []
    params = implementations.train_numpy(params, x, labels, 20, 32, lambda: epochs_done.append(1))
    assert len(epochs_done) == 20
    assert np.mean(implementations.predict_numpy(params, x) == labels) > before + 0.3


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
