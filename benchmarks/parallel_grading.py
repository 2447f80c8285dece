"""Parallel autograding: a synthetic class of exercise 1 graded with JOBS=1, then JOBS=2.

Each configuration grades the same class (clean submissions: exercise 1's solution, handed in
by every student) in a fresh course whose gradebook is a throwaway PostgreSQL database, as a class
would run it (`make grade JOBS=N`). Reports the wall time of each run, the time per submission
and the speed-up JOBS=2 / JOBS=1, on this machine's cores. Writes
benchmarks/parallel_grading.json.

    .venv/bin/python benchmarks/parallel_grading.py [--students 40] [--quick]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from course_authoring.benchmark_reports import quick_parser, report_header, write_report
from course_authoring.synthetic_class import make_class
from course_grading import sandbox
from course_grading.autograde import autograde
from course_grading.postgres import TemporaryPostgres

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01-concepts"  # as in grading_overhead.py: clean copies of exercise 1
JOBS = (1, 2)


def grade_class(scratch: Path, students: int, jobs: int) -> float:
    """Seconds to grade the whole class with ``jobs`` at a time (every score checked)."""
    with TemporaryPostgres() as server:
        config = (REPO / "nbgrader_config.py").read_text()
        course = make_class(REPO, scratch / f"jobs-{jobs}", ASSIGNMENT, students,
                            f"{config}\nc.CourseDirectory.db_url = {server.url!r}\n")
        start = time.perf_counter()
        scores = autograde(course, [ASSIGNMENT], jobs=jobs, progress=sys.stderr)
        seconds = time.perf_counter() - start
    assert [s.score for s in scores] == [10.0] * students, scores
    return seconds


def main() -> None:
    parser = quick_parser(__doc__.splitlines()[0], REPO / "benchmarks" / "parallel_grading.json")
    parser.add_argument("--students", type=int, default=40)
    args = parser.parse_args()
    students = 2 if args.quick else args.students
    with tempfile.TemporaryDirectory(prefix="parallel-grading-") as scratch:
        seconds = {jobs: grade_class(Path(scratch), students, jobs) for jobs in JOBS}
    result = {
        **report_header(args.quick),
        "students": students,
        "cores": os.cpu_count(),
        "isolated": sandbox.can_isolate(),
        "load_average_1min_after": round(os.getloadavg()[0], 1),
        "seconds": {f"jobs={jobs}": round(value, 1) for jobs, value in seconds.items()},
        "seconds_per_submission": {f"jobs={jobs}": round(value / students, 2)
                                   for jobs, value in seconds.items()},
        "speed_up_jobs2_over_jobs1": round(seconds[1] / seconds[2], 2),
    }
    write_report(args.output, result, "benchmarks/parallel_grading.py")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
