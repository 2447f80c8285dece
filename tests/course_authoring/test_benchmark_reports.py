"""course_authoring.benchmark_reports: benchmark JSON marked as generated; the committed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_authoring.benchmark_reports import GENERATED_KEY, write_report
from tests.support import REPO


def test_the_report_says_first_which_script_generated_it(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_report(path, {"samples": 10, "nested": {"a": 1}}, "benchmarks/example.py")
    report = json.loads(path.read_text())
    assert list(report) == [GENERATED_KEY, "samples", "nested"]
    assert report[GENERATED_KEY].startswith("benchmarks/example.py: generated")
    assert path.read_text().endswith("}\n")


@pytest.mark.parametrize("path", sorted((REPO / "benchmarks").glob("*.json")),
                         ids=lambda p: p.name)
def test_every_committed_benchmark_names_its_script(path: Path) -> None:
    script = json.loads(path.read_text())[GENERATED_KEY].split(":")[0]
    assert script == f"benchmarks/{path.stem}.py" and (REPO / script).is_file()
