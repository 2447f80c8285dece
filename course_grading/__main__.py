"""The command line: ``python -m course_grading release|grade|export|check|collect-zip ...``.

``release`` regenerates the student copies in ``notebooks/`` from ``solutions/`` (``make
release``); ``grade`` autogrades what is new or changed under ``submitted/``, ``--jobs`` at a
time, and prints a score table (``make grade``); ``export`` writes the gradebook's grades to
``exports/grades.csv``; ``collect-zip ASSIGNMENT ZIPFILE`` puts the notebooks of an LMS's zip
under ``submitted/`` (``make collect-zip``). They work in the course root, with its
``nbgrader_config.py``. ``check`` grades one learner's notebook with every test, in a scratch
course (``make check-exercise``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# before nbformat loads jsonschema: the optional parser it would build is never used here, and
# building it costs seconds per command (nbgrader_call.BLOCK_SLOW_IMPORTS does the same)
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

from course_grading.autograde import GRADED_STATUSES, RunLimits, Score, autograde  # noqa: E402
from course_grading.course import GradingError  # noqa: E402
from course_grading.export import export_grades  # noqa: E402
from course_grading.release import release  # noqa: E402
from course_grading.self_check import PartResult, check_notebook, find_notebook  # noqa: E402
from course_grading.zip_collect import Collection, collect_zip  # noqa: E402

__all__ = ["main"]


def _print_scores(scores: list[Score]) -> None:
    if not scores:
        print("No submissions found under submitted/<student>/<assignment>/.")
        return
    width = max(len(s.student) for s in scores)
    for s in sorted(scores, key=lambda s: (s.assignment, s.student)):
        line = f"{s.assignment}  {s.student:<{width}}  {s.score:g} / {s.max_score:g}"
        if s.manual:
            line += f"  (set by hand: {', '.join(s.manual)})"
        if not s.graded_now:
            line += "  (unchanged, not graded again)"
        if s.status != "graded" or s.reason:
            line += f"  [{s.status}] {s.reason}"
        print(line)
    review = [s for s in scores if s.status == "review"]
    if review:
        print(f"{len(review)} submission(s) graded but flagged for review: the tamper check found "
              "code that an attack on the tests could use (the reason names the cell and line); "
              "read it, and override the score with manual grades if it does tamper")


def _print_check(score: Score, parts: list[PartResult]) -> None:
    print(f"{score.assignment}: {score.score:g} / {score.max_score:g} points, with every test "
          "of the grade (the hidden ones too)")
    if score.status != "graded" or score.reason:
        print(f"  [{score.status}] {score.reason}")
    width = max((len(part.grade_id) for part in parts), default=0)
    for part in parts:
        print(f"  {part.grade_id:<{width}}  {part.score:g} / {part.max_score:g}  "
              f"{part.message or 'passed'}")


def _print_collection(collection: Collection, course_root: Path) -> None:
    width = max(len(c.student) for c in collection.students)
    for collected in collection.students:
        line = f"{collection.assignment}  {collected.student:<{width}}  " \
               f"{', '.join(collected.files)}"
        if not collected.new:
            line += "  (already collected, unchanged)"
        odd = [f for f in collected.files if f.endswith(".ipynb") and f not in collection.notebooks]
        if odd:
            line += f"  (expected {', '.join(collection.notebooks)})"
        print(line)
    if collection.skipped:
        shown = ", ".join(collection.skipped[:3]) + (", ..." if len(collection.skipped) > 3 else "")
        print(f"skipped {len(collection.skipped)} file(s) not named as the course expects: {shown}")
    if collection.ignored:
        shown = ", ".join(collection.ignored[:3]) + (", ..." if len(collection.ignored) > 3 else "")
        print(f"ignored {len(collection.ignored)} file(s) of macOS (__MACOSX/) or hidden: {shown}")
    new = sum(c.new for c in collection.students)
    print(f"{new} new submission(s) in submitted/; the zip is kept in "
          f"{collection.archive.relative_to(course_root.resolve())}/. "
          f"Next: make grade ASSIGNMENT={collection.assignment}")


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with a one-line error (no traceback) on failure."""
    parser = argparse.ArgumentParser(prog="python -m course_grading",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["release", "grade", "export", "check", "collect-zip"])
    parser.add_argument("assignments", nargs="*",
                        help="default: all; for check, one notebook or exercise (e.g. 01); for "
                             "collect-zip, the assignment and the zip file")
    parser.add_argument("--course-root", type=Path, default=Path.cwd())
    grading = parser.add_argument_group("grade")
    grading.add_argument("--student", action="append", dest="students", metavar="ID",
                         help="grade only this student's submissions (repeatable)")
    grading.add_argument("--jobs", type=int, default=1,
                         help="submissions graded at once (more than 1 needs PostgreSQL)")
    grading.add_argument("--regrade", action="store_true",
                         help="grade again what is unchanged since it was last graded")
    limits = parser.add_argument_group("grade: limits (default: nbgrader_config.py)")
    limits.add_argument("--cell-timeout", type=int, help="seconds per cell")
    limits.add_argument("--notebook-timeout", type=int, help="seconds per notebook")
    limits.add_argument("--memory-mb", type=int, help="address-space limit of the kernel")
    limits.add_argument("--no-sandbox", action="store_true",
                        help="run the notebook's own kernel, without limits or isolation")
    args = parser.parse_intermixed_args(argv)  # assignments may come before or after options
    try:
        if args.command == "check":
            if len(args.assignments) != 1:
                raise GradingError("check takes one notebook or exercise, e.g. `check 01`")
            notebook = find_notebook(args.course_root, args.assignments[0])
            print(f"checking {notebook} (it is only read) ...", flush=True)
            score, parts = check_notebook(notebook, args.course_root, RunLimits(
                args.cell_timeout, args.notebook_timeout, args.memory_mb, not args.no_sandbox))
            _print_check(score, parts)
            return 0 if score.status in GRADED_STATUSES else 1
        if args.command == "collect-zip":
            if len(args.assignments) != 2:
                raise GradingError("collect-zip takes an assignment and a zip file, e.g. "
                                   "`collect-zip 01-concepts class.zip`")
            assignment, zip_file = args.assignments
            _print_collection(collect_zip(args.course_root, assignment, Path(zip_file)),
                              args.course_root)
        elif args.command == "release":
            for path in release(args.course_root, args.assignments or None):
                print(f"wrote {path.relative_to(args.course_root.resolve())}")
        elif args.command == "export":
            print(f"wrote {export_grades(args.course_root)}")
        else:
            limits_given = RunLimits(args.cell_timeout, args.notebook_timeout, args.memory_mb,
                                     not args.no_sandbox)
            _print_scores(autograde(args.course_root, args.assignments or None, limits_given,
                                    only=args.students, jobs=args.jobs, regrade=args.regrade,
                                    progress=sys.stderr))
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
