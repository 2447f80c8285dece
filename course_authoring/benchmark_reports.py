"""The JSON files the benchmarks write: marked as generated, in one format (maintainers).

Lessons and book pages take their numbers from these files (``benchmarks/*.json``), so each file
says which script produced it; nobody edits one by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["GENERATED_KEY", "write_report"]

GENERATED_KEY = "generated_by"


def write_report(path: Path, report: dict[str, Any], script: str, indent: int = 2) -> None:
    """Write ``report`` to ``path`` as JSON, first key: which ``script`` generated it."""
    marked = {GENERATED_KEY: f"{script}: generated, do not edit by hand", **report}
    Path(path).write_text(json.dumps(marked, indent=indent) + "\n")
