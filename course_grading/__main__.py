"""The instructors' command line: ``python -m course_grading release|grade [assignment ...]``.

``release`` regenerates the student copies in ``notebooks/`` from ``solutions/`` (``make
release``); ``grade`` autogrades everything under ``submitted/`` and prints a score table
(``make grade``). Both work in the course root, with its ``nbgrader_config.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_grading.autograde import RunLimits, Score, autograde
from course_grading.course import GradingError
from course_grading.release import release

__all__ = ["main"]


def _print_scores(scores: list[Score]) -> None:
    if not scores:
        print("No submissions found under submitted/<student>/<assignment>/.")
        return
    width = max(len(s.student) for s in scores)
    for s in sorted(scores, key=lambda s: (s.assignment, s.student)):
        line = f"{s.assignment}  {s.student:<{width}}  {s.score:g} / {s.max_score:g}"
        if s.status != "graded" or s.reason:
            line += f"  [{s.status}] {s.reason}"
        print(line)


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with a one-line error (no traceback) on failure."""
    parser = argparse.ArgumentParser(prog="python -m course_grading",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["release", "grade"])
    parser.add_argument("assignments", nargs="*", help="default: all")
    parser.add_argument("--course-root", type=Path, default=Path.cwd())
    limits = parser.add_argument_group("grade: limits (default: nbgrader_config.py)")
    limits.add_argument("--cell-timeout", type=int, help="seconds per cell")
    limits.add_argument("--notebook-timeout", type=int, help="seconds per notebook")
    limits.add_argument("--memory-mb", type=int, help="address-space limit of the kernel")
    limits.add_argument("--no-sandbox", action="store_true",
                        help="run the notebook's own kernel, without limits or isolation")
    args = parser.parse_intermixed_args(argv)  # assignments may come before or after options
    try:
        if args.command == "release":
            for path in release(args.course_root, args.assignments or None):
                print(f"wrote {path.relative_to(args.course_root.resolve())}")
        else:
            _print_scores(autograde(args.course_root, args.assignments or None, RunLimits(
                args.cell_timeout, args.notebook_timeout, args.memory_mb, not args.no_sandbox)))
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
