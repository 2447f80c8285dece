"""Smoke tests of the benchmarks: a --quick run writes a complete JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
