"""What the grading protections cost: autograding time per clean submission, with and without.

Without: nbgrader as it comes (the course's basic settings only), one `nbgrader autograde` and
one `nbgrader generate_feedback` for the whole class, the notebook's own kernel. With:
`course_grading.autograde` (pre-flight and tamper checks, one nbgrader process per
student, the sandboxed kernel with limits, the extra preprocessors). Same machine, same run,
same submissions (exercise 1's solution notebook, handed in as it is). A third
configuration, everything but the sandbox kernel, splits the cost between the two. Each
configuration runs ``--rounds`` times, alternating, and the fastest counts. Writes
benchmarks/grading_overhead.json.

    .venv/bin/python benchmarks/grading_overhead.py [--students 6] [--rounds 2] [--quick]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_authoring.benchmark_reports import quick_parser, write_report
from course_authoring.cpu_time import machine_cpu_seconds
from course_authoring.synthetic_class import make_class
from course_grading import sandbox
from course_grading.autograde import RunLimits, autograde

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01-concepts"

STOCK_CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "benchmark"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = 60
'''


def stock_nbgrader(root: Path) -> None:
    def run(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, check=True,
                       capture_output=True)

    run("generate_assignment", ASSIGNMENT, "--force", "--CourseDirectory.release_directory=rel")
    run("autograde", ASSIGNMENT, "--force")
    run("generate_feedback", ASSIGNMENT, "--force")


def main() -> None:
    parser = quick_parser(__doc__.splitlines()[0], REPO / "benchmarks" / "grading_overhead.json")
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()  # --quick: 1 student, 1 round
    if args.quick:
        args.students, args.rounds = 1, 1
    seconds: dict[str, float] = {}
    # CPU seconds of the whole machine (steadier than wall time), the sandboxed kernels included:
    # their time never reaches getrusage
    cpu: dict[str, float] = {}
    configurations = {"without": None, "with": RunLimits(),
                      "with, no sandbox kernel": RunLimits(sandbox=False)}
    with tempfile.TemporaryDirectory(prefix="grading-overhead-") as scratch:
        for round_ in range(args.rounds):  # alternate, keep the best: other load comes and goes
            for name, limits in configurations.items():
                root = Path(scratch) / f"{round_}-{len(seconds)}-{name.replace(' ', '')}"
                course = make_class(REPO, root, ASSIGNMENT, args.students,
                                    STOCK_CONFIG if limits is None else None)
                start, cpu_start = time.perf_counter(), machine_cpu_seconds()
                if limits is None:
                    stock_nbgrader(course)
                else:
                    scores = autograde(course, [ASSIGNMENT], limits)
                    assert [s.score for s in scores] == [10.0] * args.students, scores
                elapsed, used = time.perf_counter() - start, machine_cpu_seconds() - cpu_start
                seconds[name] = min(seconds.get(name, elapsed), elapsed)
                cpu[name] = min(cpu.get(name, used), used)
    result = {
        "students": args.students,
        "rounds": args.rounds,
        "isolated": sandbox.can_isolate(),
        "seconds_per_submission": {k: round(v / args.students, 2) for k, v in seconds.items()},
        "ratio_with_over_without": round(seconds["with"] / seconds["without"], 2),
        "cpu_seconds_per_submission": {k: round(v / args.students, 2) for k, v in cpu.items()},
        "cpu_ratio_with_over_without": round(cpu["with"] / cpu["without"], 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    write_report(args.output, result, "benchmarks/grading_overhead.py")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
