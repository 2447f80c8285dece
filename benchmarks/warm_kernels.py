"""What warm kernels save: grading with kernels forked from a zygote against cold ones.

Two measurements, each configuration ``--rounds`` times, alternating, the fastest counting:

- a class run (``course_grading.autograde``, the sealed sandbox where this machine has it) of
  ``--students`` copies of each assignment's solution: wall and whole-machine CPU seconds per
  submission, warm (``RunLimits(warm=True)``, the default) and cold (``warm=False``);
- a kernel's start: from asking for a grading kernel to the end of a cell that imports what
  the assignment's notebook imports, warm and cold.

Writes benchmarks/warm_kernels.json.

    .venv/bin/python benchmarks/warm_kernels.py [--students 4] [--rounds 2] [--quick]
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from course_authoring.benchmark_reports import quick_parser, report_header, write_report
from course_authoring.cpu_time import machine_cpu_seconds
from course_authoring.synthetic_class import make_class
from course_grading import sandbox, zygote
from course_grading.autograde import RunLimits, autograde

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("01-concepts", "03-data-preparation", "04-baseline-mlp", "05-evaluation")


def grade(scratch: Path, assignment: str, students: int, warm: bool) -> tuple[float, float]:
    """Wall and machine CPU seconds of one class run."""
    course = make_class(REPO, scratch / f"{assignment}-{warm}-{time.monotonic_ns()}",
                        assignment, students)
    start, cpu = time.perf_counter(), machine_cpu_seconds()
    scores = autograde(course, [assignment], RunLimits(warm=warm), feedback=False)
    elapsed, used = time.perf_counter() - start, machine_cpu_seconds() - cpu
    assert all(s.score == s.max_score > 0 for s in scores), scores
    return elapsed, used


def kernel_start(modules: list[str], socket_path: str | None) -> float:
    """Seconds from starting a grading kernel to the end of a cell importing ``modules``."""
    start = time.perf_counter()
    limits = sandbox.KernelLimits(4096, 600, 256, 512)
    with sandbox.grading_kernel(limits, socket_path) as client:
        reply = client.execute_interactive("\n".join(f"import {m}" for m in modules), timeout=300)
        assert reply["content"]["status"] == "ok", reply["content"]
        return time.perf_counter() - start


def main() -> None:
    parser = quick_parser(__doc__.splitlines()[0], REPO / "benchmarks" / "warm_kernels.json")
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()  # --quick: exercise 1 only, 1 student, 1 round
    assignments = ASSIGNMENTS[:1] if args.quick else ASSIGNMENTS
    students, rounds = (1, 1) if args.quick else (args.students, args.rounds)
    per_submission: dict[str, dict[str, dict[str, float]]] = {}
    ready: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="warm-kernels-") as scratch:
        for assignment in assignments:
            runs: dict[str, list[tuple[float, float]]] = {"warm": [], "cold": []}
            for _ in range(rounds):
                for kind in runs:
                    runs[kind].append(grade(Path(scratch), assignment, students, kind == "warm"))
            per_submission[assignment] = {
                kind: {"seconds": round(min(t for t, _ in values) / students, 2),
                       "cpu_seconds": round(min(c for _, c in values) / students, 2)}
                for kind, values in runs.items()}
            sources = sorted((REPO / "solutions" / assignment).glob("*.ipynb"))
            modules = [m for m in zygote.imported_modules(sources) if "." not in m]
            starts: dict[str, list[float]] = {"warm": [], "cold": []}
            with ExitStack() as stack:
                path = stack.enter_context(zygote.running(
                    sandbox.kernel_environment(os.environ), zygote.imported_modules(sources)))
                kernel_start(modules, path)  # waits for the zygote's own import
                for _ in range(rounds + 1):
                    starts["warm"].append(kernel_start(modules, path))
                    starts["cold"].append(kernel_start(modules, None))
            ready[assignment] = {kind: round(min(values), 2) for kind, values in starts.items()}
    result = {
        **report_header(args.quick),
        "students": students,
        "rounds": rounds,
        "isolated": sandbox.can_isolate(),
        "per_submission": per_submission,
        "kernel_ready_with_imports_seconds": ready,
        "load_average_1min": round(os.getloadavg()[0], 1),
    }
    write_report(args.output, result, "benchmarks/warm_kernels.py")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
