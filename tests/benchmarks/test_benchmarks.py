"""Smoke tests of the benchmarks: a --quick run writes a complete JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils import records
from tests.support import REPO

SCRIPT = REPO / "benchmarks" / "train_throughput.py"
EXPECTED_RUNS = {
    (config, batch_size)
    for config in ("keras-defaults", "course-defaults")
    for batch_size in (32, 128)
}


@pytest.mark.slow
def test_quick_benchmark_writes_report(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "speed-up course/keras" in completed.stdout

    report = json.loads(output.read_text())
    results = report["results"]
    assert {(r["config"], r["batch_size"]) for r in results} == EXPECTED_RUNS
    assert len(results) == len(EXPECTED_RUNS)
    for result in results:
        assert result["samples_per_second"] > 0, result
        assert result["warmup_seconds"] > 0, result
        assert result["epoch_seconds"] and all(s > 0 for s in result["epoch_seconds"]), result
    assert report["matmul"]["numpy"]["gflops_best"] > 0
    assert report["matmul"]["tensorflow"]["gflops_best"] > 0
    assert set(report["speedup_course_over_keras"]) == {"32", "128"}
    assert report["model"]["training_flops_per_sample"] > 0


@pytest.mark.slow
def test_quick_framework_comparison_writes_report(tmp_path: Path) -> None:
    output = tmp_path / "comparison.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "framework_comparison.py"), "--quick",
         "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert "of matmul" in completed.stdout  # the table was printed
    report = json.loads(output.read_text())
    assert report["quick"] is True
    assert [run["framework"] for run in report["runs"]] == ["pytorch", "numpy"]
    assert all(run["samples"] == 4096 and len(run["epoch_seconds"]) == 2 for run in report["runs"])
    assert report["matmul"]["numpy_gflops"] > 0


@pytest.mark.slow
def test_quick_seed_spread_writes_a_complete_report(tmp_path: Path) -> None:
    output = tmp_path / "spread.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "seed_spread.py"), "--quick", "--seeds", "3",
         "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["generated_by"].startswith("benchmarks/seed_spread.py")
    assert report["quick"] is True and report["settings"]["seeds"] == [3]
    runs = report["runs"]
    assert [run["network"] for run in runs] == ["784-32-10"]
    n_test = report["settings"]["test_images"]
    for run in runs:
        correct = records.decode_correct(run["test_correct"], n_test)
        assert correct.shape == (n_test,) and abs(correct.mean() - run["test_accuracy"]) < 1e-6
        assert run["seed"] == 3 and run["epochs"] == len(run["val_accuracy"]) == 1


@pytest.mark.slow
def test_quick_regularization_ablation_writes_a_complete_report(tmp_path: Path) -> None:
    output = tmp_path / "ablation.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "regularization_ablation.py"), "--quick",
         "--seeds", "4", "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["generated_by"].startswith("benchmarks/regularization_ablation.py")
    assert report["quick"] is True and report["settings"]["seeds"] == [4]
    runs = report["runs"]
    assert [run["variant"] for run in runs] == ["final recipe", "without dropout"]
    n_val = report["settings"]["validation_images"]
    for run in runs:
        correct = records.decode_correct(run["val_correct"], n_val)
        assert abs(correct.mean() - run["kept_val_accuracy"]) < 1e-6
        assert run["epochs"] == len(run["val_loss"]) == len(run["val_accuracy"]) == 2
        assert run["kept_epoch"] == 1 + int(np.argmin(run["val_loss"]))


def run_quick(script: str, output: Path) -> dict:
    """Run ``benchmarks/<script> --quick`` and return the report it wrote."""
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--quick", "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["generated_by"].startswith(f"benchmarks/{script}") and report["quick"] is True
    return report


@pytest.mark.slow
def test_quick_regularization_runs_write_a_complete_report(tmp_path: Path) -> None:
    report = run_quick("regularization_runs.py", tmp_path / "runs.json")
    epochs = report["settings"]["small_epochs"]
    assert [(run["l2"], run["seed"]) for run in report["l2_strength"]] == [(0.0, 42), (0.01, 42)]
    assert all(len(run["val_categorical_crossentropy"]) == epochs for run in report["l2_strength"])
    assert all(len(run["loss"]) == len(run["val_loss"]) == epochs
               for run in report["learning_rate_sweep"])
    trial = report["random_search"][0]
    assert 1 <= trial["epochs"] <= epochs and 0 < trial["val_accuracy"] <= 1
    final = report["final_model"]
    correct = records.decode_correct(final["test_correct"], report["settings"]["test_images"])
    assert abs(correct.mean() - final["test_accuracy"]) < 1e-6
    assert final["kept_epoch"] == 1 + int(np.argmin(final["history"]["val_loss"]))


@pytest.mark.slow
def test_quick_next_steps_runs_write_a_complete_report(tmp_path: Path) -> None:
    report = run_quick("next_steps_runs.py", tmp_path / "runs.json")
    settings, cnn = report["settings"], report["cnn"]
    assert len(records.decode_labels(cnn["test_predictions"])) == settings["test_images"]
    assert len(cnn["epoch_seconds"]) == len(cnn["history"]["loss"]) == settings["cnn_epochs"]
    assert [(run["seed"], run["augmented"]) for run in report["augmentation"]] == \
        [(42, True), (42, False)]
    for run in report["augmentation"]:
        correct = records.decode_correct(run["val_correct"], settings["target_validation_images"])
        assert abs(correct.mean() - run["val_accuracy"]) < 1e-6


@pytest.mark.slow
def test_quick_xla_on_cpu_writes_a_complete_report(tmp_path: Path) -> None:
    report = run_quick("xla_on_cpu.py", tmp_path / "xla.json")
    assert set(report["random_numbers"]) == {"tensorflow_seconds", "xla_seconds"}
    for comparison in ("compile", "dense_dropout", "convolutions"):
        for label in ("xla", "no_xla"):
            times = report[comparison][label]
            assert times["first_epoch_seconds"] > 0 and times["median_epoch_seconds"] > 0


@pytest.mark.slow
def test_quick_parallel_grading_writes_a_complete_report(tmp_path: Path) -> None:
    report = run_quick("parallel_grading.py", tmp_path / "parallel.json")
    assert report["students"] == 2
    assert set(report["seconds"]) == {"jobs=1", "jobs=2"}
    assert all(seconds > 0 for seconds in report["seconds_per_submission"].values())
    # the seconds are rounded to 0.1, the speed-up is computed before rounding (to 0.01)
    one, two = report["seconds"]["jobs=1"], report["seconds"]["jobs=2"]
    assert (one - 0.05) / (two + 0.05) - 0.005 <= report["speed_up_jobs2_over_jobs1"] \
        <= (one + 0.05) / (two - 0.05) + 0.005


def test_committed_parallel_grading_report_is_a_full_run() -> None:
    report = json.loads((REPO / "benchmarks" / "parallel_grading.json").read_text())
    assert not report["quick"] and report["students"] >= 40


@pytest.mark.slow
def test_quick_warm_kernels_writes_a_complete_report(tmp_path: Path) -> None:
    report = run_quick("warm_kernels.py", tmp_path / "warm.json")
    assert report["students"] == 1 and list(report["per_submission"]) == ["01-concepts"]
    for seconds in report["per_submission"]["01-concepts"].values():
        assert seconds["seconds"] > 0 and seconds["cpu_seconds"] > 0
    assert set(report["kernel_ready_with_imports_seconds"]["01-concepts"]) == {"warm", "cold"}
