"""Record exercise 6's given baseline: its set-up cell's training code, run once.

Exercise 6 compares a learner's regularized network with an unregularized 784-256-128-10 network
trained for 20 epochs on 2,000 images with noisy labels. Its set-up cell holds that training code
and, with ``TRAIN_HERE = False`` (as released), loads this script's record instead
(``course_utils.records.noisy_labels_baseline``): every learner and the grader compare against
the same numbers, on any processor, without the training run. This script runs the set-up cell of
the solution notebook with ``TRAIN_HERE = True`` and writes what it trained: the Keras history,
the check-slice accuracy after each epoch, and a hash of the training code, which a test compares
with the notebook's (an edit of the code needs a new record).

Run it with ``python benchmarks/noisy_labels_baseline.py`` (seconds). ``--quick`` changes
nothing (the run is already short); the smoke test passes it, with ``--output`` elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat

# Importing course_utils sets TensorFlow's log level and the Keras backend before TensorFlow loads.
from course_authoring.benchmark_reports import quick_parser, report_header, write_report
from course_utils import records

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "solutions" / "06-regularization" / "06-regularization.ipynb"
SWITCH = "TRAIN_HERE = False"
OUTPUT = Path(str(resources.files("course_utils").joinpath(records.NOISY_LABELS_BASELINE)))


def setup_source(notebook: Path = NOTEBOOK) -> str:
    """The exercise's set-up cell (the one that holds the switch)."""
    cells = [cell.source for cell in nbformat.read(notebook, as_version=4).cells
             if cell.cell_type == "code" and SWITCH in cell.source]
    if len(cells) != 1:
        raise ValueError(f"{notebook}: expected one code cell with {SWITCH!r}, found {len(cells)}")
    return cells[0]


def training_code(source: str) -> str:
    """The lines that train the baseline: from the switch's ``if`` to its ``else``."""
    start = source.index("if TRAIN_HERE:")
    return source[start:source.index("\nelse:", start)]


def code_hash(source: str) -> str:
    """SHA-256 of the training code, as the record keeps it."""
    return hashlib.sha256(training_code(source).encode()).hexdigest()


def train(source: str) -> dict[str, Any]:
    """Run the set-up cell with ``TRAIN_HERE = True``; what the baseline's training recorded."""
    namespace: dict[str, Any] = {}
    exec(compile(source.replace(SWITCH, "TRAIN_HERE = True"), str(NOTEBOOK), "exec"), namespace)
    history = namespace["baseline_history"]
    return {"params": {key: history.params[key] for key in ("epochs", "steps")},
            "history": {name: [float(v) for v in values]
                        for name, values in history.history.items()},
            "check_accuracy": [float(v) for v in namespace["baseline_check"]]}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return quick_parser(__doc__.splitlines()[0], OUTPUT).parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train the baseline as the set-up cell does and write the record."""
    args = parse_args(argv)
    source = setup_source()
    report = {**report_header(args.quick), "notebook": str(NOTEBOOK.relative_to(REPO)),
              "training_code_sha256": code_hash(source), **train(source)}
    write_report(args.output, report, "benchmarks/noisy_labels_baseline.py")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
