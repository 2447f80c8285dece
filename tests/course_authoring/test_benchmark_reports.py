"""course_authoring.benchmark_reports: benchmark JSON marked as generated; the committed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_authoring.benchmark_reports import (
    GENERATED_KEY,
    quick_parser,
    report_header,
    write_report,
)
from course_utils import repro
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


def test_the_quick_parser_takes_an_output_and_a_smoke_test_flag(tmp_path: Path) -> None:
    parser = quick_parser("a benchmark", tmp_path / "default.json")
    assert parser.parse_args([]).output == tmp_path / "default.json"
    assert parser.parse_args([]).quick is False
    args = parser.parse_args(["--quick", "--output", str(tmp_path / "x.json")])
    assert args.quick is True and args.output == tmp_path / "x.json"


def test_a_report_header_says_when_whether_quick_and_on_which_versions() -> None:
    header = report_header(quick=True)
    assert header["quick"] is True and header["created"][:2] == "20"
    assert set(header["machine"]) == {"python", "tensorflow", "keras", "processor", "cpu"}
    assert header["machine"]["cpu"] == repro.cpu_signature()  # what records.matches_record reads
