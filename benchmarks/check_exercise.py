"""What a learner waits for: ``make check-exercise`` on each exercise's solution notebook.

For each assignment, in a scratch copy of the course (its config and the assignment's source, no
cache): the first check, which also builds the cached gradebook of ``.cache/check-exercise/``,
then a second check of the same notebook, which finds it. Each is ``python -m course_grading
check NOTEBOOK``, timed from start to exit: wall seconds and the whole machine's CPU seconds
(run it on an otherwise idle machine). ``--rounds`` repeats both, the fastest counting.

Writes benchmarks/check_exercise.json.

    .venv/bin/python benchmarks/check_exercise.py [--rounds 2] [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_authoring.benchmark_reports import quick_parser, report_header, write_report
from course_authoring.cpu_time import machine_cpu_seconds
from course_authoring.synthetic_class import make_class
from course_grading.course import assignments

REPO = Path(__file__).resolve().parents[1]


def check(course: Path, notebook: Path) -> tuple[float, float]:
    """Wall and machine CPU seconds of one ``course_grading check`` that gives full marks."""
    start, cpu = time.perf_counter(), machine_cpu_seconds() or 0.0
    completed = subprocess.run(
        [sys.executable, "-m", "course_grading", "check", str(notebook), "--course-root",
         str(course)], capture_output=True, text=True, check=False)
    elapsed, used = time.perf_counter() - start, (machine_cpu_seconds() or 0.0) - cpu
    if completed.returncode != 0 or "/ 10 points" not in completed.stdout:
        raise SystemExit(f"check of {notebook.name} failed:\n{completed.stdout}{completed.stderr}")
    return elapsed, used


def main() -> None:
    parser = quick_parser(__doc__.splitlines()[0], REPO / "benchmarks" / "check_exercise.json")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()  # --quick: exercise 1 only, one round
    chosen = assignments(REPO)[:1] if args.quick else assignments(REPO)
    rounds = 1 if args.quick else args.rounds
    seconds: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="check-exercise-") as scratch:
        for assignment in chosen:
            runs: dict[str, list[tuple[float, float]]] = {"first": [], "again": []}
            for round_ in range(rounds):
                course = make_class(REPO, Path(scratch) / f"{assignment}-{round_}", assignment, 0)
                notebook = Path(scratch) / f"learner-{round_}" / assignment / f"{assignment}.ipynb"
                notebook.parent.mkdir(parents=True)
                notebook.write_bytes((REPO / "solutions" / assignment / notebook.name).read_bytes())
                for kind in runs:
                    runs[kind].append(check(course, notebook))
            seconds[assignment] = {kind: {"seconds": round(min(t for t, _ in values), 2),
                                          "cpu_seconds": round(min(c for _, c in values), 2)}
                                   for kind, values in runs.items()}
            print(assignment, seconds[assignment], flush=True)
    result = {**report_header(args.quick), "rounds": rounds, "per_exercise": seconds,
              "load_average_1min": round(os.getloadavg()[0], 1)}
    write_report(args.output, result, "benchmarks/check_exercise.py")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
