"""nbgrader in one call per step: release student copies and autograde submissions (instructors).

``python -m course_utils.grading release`` regenerates ``notebooks/`` from ``solutions/``;
``python -m course_utils.grading grade`` autogrades everything under ``submitted/`` and prints a
score table. Both run nbgrader's own command line, in the course root, with the course's
``nbgrader_config.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Score", "assignments", "autograde", "release"]

SOURCE_DIR = "solutions"
RELEASE_DIR = "notebooks"
SUBMITTED_DIR = "submitted"
CONFIG_FILE = "nbgrader_config.py"


@dataclass(frozen=True)
class Score:
    """One student's autograded score on one assignment."""

    student: str
    assignment: str
    score: float
    max_score: float


class GradingError(RuntimeError):
    """nbgrader failed in a way that leaves no usable result."""


def assignments(course_root: Path) -> list[str]:
    """Names of the assignments in ``solutions/``, in order."""
    source = Path(course_root) / SOURCE_DIR
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def _nbgrader(course_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` by name: put this interpreter's scripts folder first on PATH.
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}
    result = subprocess.run(command, cwd=course_root, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise GradingError(
            f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}):\n"
            f"{result.stderr[-4000:]}"
        )
    return result


def release(course_root: Path, names: list[str] | None = None) -> list[Path]:
    """Regenerate the student copies in ``notebooks/`` from ``solutions/``.

    nbgrader runs in a scratch copy of the course, so no gradebook or log is left behind.
    """
    course_root = Path(course_root).resolve()
    names = names or assignments(course_root)
    written = []
    with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as scratch:
        scratch_root = Path(scratch)
        shutil.copy2(course_root / CONFIG_FILE, scratch_root / CONFIG_FILE)
        for name in names:
            source = course_root / SOURCE_DIR / name
            if not source.is_dir():
                raise GradingError(f"no assignment {name!r} under {course_root / SOURCE_DIR}")
            shutil.copytree(source, scratch_root / SOURCE_DIR / name)
            _nbgrader(scratch_root, "generate_assignment", name, "--force", "--no-db")
            target = course_root / RELEASE_DIR / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(scratch_root / RELEASE_DIR / name, target)
            written += sorted(target.glob("*.ipynb"))
    return written


def _submitted_assignments(course_root: Path) -> list[str]:
    submitted = course_root / SUBMITTED_DIR
    if not submitted.is_dir():
        return []
    return sorted({p.name for student in submitted.iterdir() if student.is_dir()
                   for p in student.iterdir() if p.is_dir()})


def autograde(course_root: Path, names: list[str] | None = None) -> list[Score]:
    """Autograde every submission under ``submitted/<student>/<assignment>/``; return the scores.

    The gradebook (``gradebook.db`` in the course root) learns each assignment from
    ``solutions/`` first; the student copies it would write go to a scratch folder, so the
    committed ``notebooks/`` are never touched. Feedback HTML is written to ``feedback/``.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course_root = Path(course_root).resolve()
    names = names or _submitted_assignments(course_root)
    if not names:
        return []
    with tempfile.TemporaryDirectory(prefix="nbgrader-gradebook-") as scratch:
        for name in names:
            _nbgrader(course_root, "generate_assignment", name, "--force",
                      f"--CourseDirectory.release_directory={scratch}")
            _nbgrader(course_root, "autograde", name, "--force")
            _nbgrader(course_root, "generate_feedback", name, "--force")
    scores = []
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}") as gradebook:
        for name in names:
            for student in gradebook.students:
                try:
                    submission = gradebook.find_submission(name, student.id)
                except MissingEntry:
                    continue
                scores.append(Score(student.id, name, submission.score, submission.max_score))
    return scores


def _print_scores(scores: list[Score]) -> None:
    if not scores:
        print(f"No submissions found under {SUBMITTED_DIR}/<student>/<assignment>/.")
        return
    width = max(len(s.student) for s in scores)
    for s in sorted(scores, key=lambda s: (s.assignment, s.student)):
        print(f"{s.assignment}  {s.student:<{width}}  {s.score:g} / {s.max_score:g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["release", "grade"])
    parser.add_argument("assignments", nargs="*", help="default: all")
    parser.add_argument("--course-root", type=Path, default=Path.cwd())
    args = parser.parse_intermixed_args(argv)  # assignments may come before or after options
    try:
        if args.command == "release":
            for path in release(args.course_root, args.assignments or None):
                print(f"wrote {path.relative_to(args.course_root.resolve())}")
        else:
            _print_scores(autograde(args.course_root, args.assignments or None))
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
