"""Smoke tests of the benchmarks: a --quick run writes a complete JSON report.

The scripts that train in their own process share one (tests/benchmarks/quick_runs.py), so that
TensorFlow, PyTorch and JAX are imported once; the grading benchmarks start their own kernels.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_grading.course import assignments
from course_utils import records
from tests.benchmarks.quick_runs import load_script
from tests.support import REPO

# script -> its options besides --quick and --output; run in this order, in one process
# (train_throughput last: its --strict-determinism runs turn op determinism on for the process)
SHARED = {
    "noisy_labels_baseline.py": [], "framework_comparison.py": [],
    "seed_spread.py": ["--seeds", "3"],
    "regularization_ablation.py": ["--seeds", "4"], "regularization_runs.py": [],
    "next_steps_runs.py": [], "xla_on_cpu.py": [], "train_throughput.py": [],
}
# scripts not in SHARED, and why
OWN_PROCESS = {
    "parallel_grading.py": "grades a class: its smoke test starts nbgrader and kernels",
    "warm_kernels.py": "grades a class: its smoke test starts nbgrader, kernels and a zygote",
    "check_exercise.py": "times `course_grading check` processes: its smoke test starts them",
    "grading_overhead.py": "grades a class like parallel_grading.py; run by make bench only",
    "lighthouse_audit.py": "audits the built book in a browser; run by make audit only",
}
EXPECTED_RUNS = {
    (config, batch_size)
    for config in ("keras-defaults", "course-defaults")
    for batch_size in (32, 128)
}


@pytest.fixture(scope="module")
def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder where the SHARED scripts' quick runs left their reports, output and status."""
    out = tmp_path_factory.mktemp("quick-runs")
    arguments: list[str] = []
    for script, options in SHARED.items():
        arguments += [*(["--"] if arguments else []), script, *options]
    completed = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.quick_runs", str(out), *arguments],
        cwd=REPO, capture_output=True, text=True, timeout=1200, check=False)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return out


def shared_report(out: Path, script: str) -> tuple[dict, str]:
    """A SHARED script's report and what it printed; fails with its traceback if it failed."""
    name = Path(script).stem
    status = (out / f"{name}.status").read_text()
    assert status == "0", status[-4000:]
    report = json.loads((out / f"{name}.json").read_text())
    assert report["generated_by"].startswith(f"benchmarks/{script}")
    return report, (out / f"{name}.out").read_text()


def test_every_benchmark_script_has_its_smoke_test() -> None:
    """A new script joins SHARED, or OWN_PROCESS with the reason it needs one."""
    assert {path.name for path in (REPO / "benchmarks").glob("*.py")} == {*SHARED, *OWN_PROCESS}


def test_exercise_6_baseline_was_recorded_from_the_notebook_s_training_code() -> None:
    script = load_script("noisy_labels_baseline.py")
    record = json.loads((REPO / "course_utils" / records.NOISY_LABELS_BASELINE).read_text())
    assert record["training_code_sha256"] == script.code_hash(script.setup_source()), \
        "exercise 6's training code changed: run benchmarks/noisy_labels_baseline.py, commit it"
    history, check = records.noisy_labels_baseline()
    assert len(check) == history.params["epochs"] == len(history.history["val_accuracy"]) == 20


@pytest.mark.slow
def test_training_exercise_6_s_baseline_again_gives_the_record(shared_runs) -> None:
    """The record is what the set-up cell's code trains (on another CPU: as closely as it can)."""
    report, _ = shared_report(shared_runs, "noisy_labels_baseline.py")
    committed = json.loads((REPO / "course_utils" / records.NOISY_LABELS_BASELINE).read_text())
    cpu = committed["machine"]["cpu"]
    assert records.matches_record(committed["check_accuracy"], report["check_accuracy"],
                                  recorded_cpu=cpu)
    for name in ("val_accuracy", "val_loss"):
        assert records.matches_record(committed["history"][name], report["history"][name],
                                      recorded_cpu=cpu), name


@pytest.mark.slow
def test_quick_benchmark_writes_report(shared_runs) -> None:
    report, printed = shared_report(shared_runs, "train_throughput.py")
    assert "speed-up course/keras" in printed

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
def test_quick_framework_comparison_writes_report(shared_runs) -> None:
    report, printed = shared_report(shared_runs, "framework_comparison.py")
    assert "of matmul" in printed  # the table was printed
    assert report["quick"] is True
    assert [run["framework"] for run in report["runs"]] == ["pytorch", "numpy"]
    assert all(run["samples"] == 4096 and len(run["epoch_seconds"]) == 2 for run in report["runs"])
    assert report["matmul"]["numpy_gflops"] > 0


@pytest.mark.slow
def test_quick_seed_spread_writes_a_complete_report(shared_runs) -> None:
    report, _ = shared_report(shared_runs, "seed_spread.py")
    assert report["quick"] is True and report["settings"]["seeds"] == [3]
    runs = report["runs"]
    assert [run["network"] for run in runs] == ["784-32-10"]
    n_test = report["settings"]["test_images"]
    for run in runs:
        correct = records.decode_correct(run["test_correct"], n_test)
        assert correct.shape == (n_test,) and abs(correct.mean() - run["test_accuracy"]) < 1e-6
        assert run["seed"] == 3 and run["epochs"] == len(run["val_accuracy"]) == 1


@pytest.mark.slow
def test_quick_regularization_ablation_writes_a_complete_report(shared_runs) -> None:
    report, _ = shared_report(shared_runs, "regularization_ablation.py")
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
def test_quick_regularization_runs_write_a_complete_report(shared_runs) -> None:
    report, _ = shared_report(shared_runs, "regularization_runs.py")
    assert report["quick"] is True
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
def test_quick_next_steps_runs_write_a_complete_report(shared_runs) -> None:
    report, _ = shared_report(shared_runs, "next_steps_runs.py")
    assert report["quick"] is True
    settings, cnn = report["settings"], report["cnn"]
    assert len(records.decode_labels(cnn["test_predictions"])) == settings["test_images"]
    assert len(cnn["epoch_seconds"]) == len(cnn["history"]["loss"]) == settings["cnn_epochs"]
    assert [(run["seed"], run["augmented"]) for run in report["augmentation"]] == \
        [(42, True), (42, False)]
    for run in report["augmentation"]:
        correct = records.decode_correct(run["val_correct"], settings["target_validation_images"])
        assert abs(correct.mean() - run["val_accuracy"]) < 1e-6


@pytest.mark.slow
def test_quick_xla_on_cpu_writes_a_complete_report(shared_runs) -> None:
    report, _ = shared_report(shared_runs, "xla_on_cpu.py")
    assert report["quick"] is True
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


@pytest.mark.slow
def test_quick_check_exercise_writes_a_complete_report(tmp_path: Path) -> None:
    report = run_quick("check_exercise.py", tmp_path / "check.json")
    assert list(report["per_exercise"]) == ["01-concepts"]
    for kind in ("first", "again"):
        timing = report["per_exercise"]["01-concepts"][kind]
        assert timing["seconds"] > 0 and timing["cpu_seconds"] > 0


def test_committed_check_exercise_report_covers_every_exercise() -> None:
    report = json.loads((REPO / "benchmarks" / "check_exercise.json").read_text())
    assert not report["quick"]
    assert list(report["per_exercise"]) == assignments(REPO)
