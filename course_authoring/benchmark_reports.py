"""The JSON files the benchmarks write: marked as generated, in one format (maintainers).

Lessons and book pages take their numbers from these files (``benchmarks/*.json``), so each file
says which script produced it; nobody edits one by hand.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from course_utils import repro

__all__ = ["GENERATED_KEY", "quick_parser", "report_header", "write_report"]

GENERATED_KEY = "generated_by"


def write_report(path: Path, report: dict[str, Any], script: str, indent: int = 2) -> None:
    """Write ``report`` to ``path`` as JSON, first key: which ``script`` generated it."""
    marked = {GENERATED_KEY: f"{script}: generated, do not edit by hand", **report}
    Path(path).write_text(json.dumps(marked, indent=indent) + "\n")


def quick_parser(description: str, output: Path) -> argparse.ArgumentParser:
    """The options every recording script takes: ``--output`` and ``--quick`` (a smoke test)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--output", type=Path, default=output)
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny and fast")
    return parser


def report_header(quick: bool) -> dict[str, Any]:
    """The keys every report starts with: when, whether a smoke test, on which versions."""
    import keras
    import tensorflow as tf

    return {"created": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick,
            "machine": {"python": platform.python_version(), "tensorflow": tf.__version__,
                        "keras": keras.__version__, "processor": platform.machine(),
                        "cpu": repro.cpu_signature()}}
