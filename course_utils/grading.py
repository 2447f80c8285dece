"""nbgrader in one call per step: release student copies and autograde submissions (instructors).

``python -m course_utils.grading release`` regenerates ``notebooks/`` from ``solutions/``;
``python -m course_utils.grading grade`` autogrades everything under ``submitted/`` and prints a
score table. Both run nbgrader's own command line, in the course root, with the course's
``nbgrader_config.py``.

Grading is built to survive bad submissions (book/using-the-course.md says what is protected):
each submission is checked first (:mod:`course_utils.submissions`, :mod:`course_utils.tamper`),
then graded by its own nbgrader process with its own time limit, in the sandboxed kernel
(:mod:`course_utils.sandbox`, :mod:`course_utils.preprocessors`). Whatever happens to one
submission is recorded as its outcome (a score and a reason) and the run goes on.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils import sandbox, submissions, tamper

__all__ = ["GradingError", "Limits", "Score", "assignments", "autograde", "release"]

SOURCE_DIR = "solutions"
RELEASE_DIR = "notebooks"
SUBMITTED_DIR = "submitted"
CONFIG_FILE = "nbgrader_config.py"
# `python -m nbgrader`, minus 1.5-3 s per process: jsonschema imports rfc3987_syntax, if installed,
# which builds a parser at import time; nbformat's schema never uses the formats it checks.
NBGRADER_MAIN = ("import sys; sys.modules['rfc3987_syntax'] = None; sys.argv[0] = 'nbgrader'; "
                 "from nbgrader.apps.nbgraderapp import main; main()")


@dataclass(frozen=True)
class Score:
    """One student's autograded score on one assignment."""

    student: str
    assignment: str
    score: float
    max_score: float
    status: str = "graded"  # graded | rejected (pre-flight) | tampering | failed (nbgrader)
    reason: str = ""


@dataclass(frozen=True)
class Limits:
    """Overrides of the limits in nbgrader_config.py (None: keep the configured value)."""

    cell_timeout: int | None = None
    notebook_timeout: int | None = None
    memory_mb: int | None = None
    sandbox: bool = True  # False: the notebook's own kernel, no limits (for comparisons only)
    options: list[str] = field(default_factory=list)  # more `--Class.trait=value` for nbgrader

    def nbgrader_options(self) -> list[str]:
        """Command-line options that carry these limits to nbgrader."""
        options = [] if self.sandbox else ["--GuardedExecute.sandbox=False"]
        for option, value in [("Execute.timeout", self.cell_timeout),
                              ("GuardedExecute.notebook_timeout", self.notebook_timeout),
                              ("GuardedExecute.memory_limit_mb", self.memory_mb)]:
            if value is not None:
                options.append(f"--{option}={value}")
        return options + self.options

    def process_timeout(self, course_root: Path) -> float:
        """Seconds after which one student's nbgrader process is killed (a last resort)."""
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config()
        notebook = self.notebook_timeout or config.GuardedExecute.get("notebook_timeout", 600)
        cell = self.cell_timeout or config.Execute.get("timeout", 60)
        return notebook + cell + 120


class GradingError(RuntimeError):
    """nbgrader failed in a way that leaves no usable result."""


def assignments(course_root: Path) -> list[str]:
    """Names of the assignments in ``solutions/``, in order."""
    source = Path(course_root) / SOURCE_DIR
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def _nbgrader(course_root: Path, *args: str, timeout: float | None = None,
              check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", NBGRADER_MAIN, *args]
    # nbgrader runs `alembic` by name: put this interpreter's scripts folder first on PATH.
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}
    process = subprocess.Popen(command, cwd=course_root, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)  # its own group, killed as a whole
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, err = process.communicate()
        err += f"\n[killed after {timeout:.0f} s]"
        process.returncode = -9
    result = subprocess.CompletedProcess(command, process.returncode, out, err)
    if check and result.returncode != 0:
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


def _students(course_root: Path, assignment: str) -> list[str]:
    submitted = course_root / SUBMITTED_DIR
    return sorted(s.name for s in submitted.iterdir() if (s / assignment).is_dir())


def _gradebook(course_root: Path):  # noqa: ANN202 - nbgrader.api.Gradebook, imported late
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{course_root / 'gradebook.db'}")


def _record_zero(course_root: Path, assignment: str, student: str) -> None:
    """Give every automatic grade of the submission 0 (manual grades are kept)."""
    from sqlalchemy.exc import SAWarning

    with _gradebook(course_root) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use, harmless
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gradebook.db.commit()


def _write_feedback(course_root: Path, assignment: str, student: str, sources: list[Path],
                    status: str, reason: str) -> None:
    """A short feedback page for a submission that nbgrader did not grade."""
    folder = course_root / "feedback" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        (folder / f"{source.stem}.html").write_text(
            f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{assignment}</title>"
            f"</head><body><h1>{html.escape(assignment)}: {html.escape(status)}</h1>"
            f"<p>Details:</p><pre>{html.escape(reason)}</pre></body></html>\n")


KERNEL_TROUBLE = {"DeadKernelError", "NotRun", "CellTimeoutError", "KeyboardInterrupt",
                  "MemoryError"}


def _run_notes(course_root: Path, assignment: str, student: str) -> list[str]:
    """What went wrong while the notebooks ran: kernel death, time limits, memory."""
    notes = []
    for path in sorted((course_root / "autograded" / student / assignment).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []):
                if output.output_type == "error" and output.ename in KERNEL_TROUBLE:
                    notes.append(f"cell {index}: {output.ename}")
    return notes[:1] + (["... and later cells not run"] if any("NotRun" in n for n in notes)
                        and "NotRun" not in notes[0] else [])


GENERIC = ("There was an error processing", "Please see", "Removing failed", "Traceback")


def _last_error(stderr: str) -> str:
    """The most telling line of nbgrader's log: the last exception, else the last ERROR."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
    logged = [line.split("ERROR]", 1)[1].strip() for line in lines if "| ERROR]" in line
              and not any(g in line for g in GENERIC)]
    return (errors or logged or lines or ["no output"])[-1][:300]


def _grade_one(course_root: Path, assignment: str, student: str, sources: list[Path],
               staging: Path, limits: Limits) -> tuple[str, str]:
    """Pre-flight, tamper check, nbgrader in its own process; returns (status, reason)."""
    staged = staging / student / assignment
    check = submissions.prepare(course_root / SUBMITTED_DIR / student / assignment, sources,
                                staged)
    if not check.gradeable:
        status, reason = "rejected", "; ".join(check.notes)
    else:
        found = []
        for source in sources:
            if source.name in check.notebooks:
                found += tamper.find_tampering(check.notebooks[source.name],
                                               nbformat.read(source, as_version=4))
        status, reason = ("tampering", "; ".join(map(str, found[:3])) +
                          (f"; {len(found) - 3} more" if len(found) > 3 else "")) if found \
            else ("graded", "")
    if status == "graded":
        result = _nbgrader(course_root, "autograde", assignment, "--student", student, "--force",
                           f"--CourseDirectory.submitted_directory={staging}",
                           *limits.nbgrader_options(), timeout=limits.process_timeout(course_root),
                           check=False)
        if result.returncode == 0:
            return "graded", "; ".join(check.notes + _run_notes(course_root, assignment, student))
        status, reason = "failed", "nbgrader failed: " + _last_error(result.stderr)
    _record_zero(course_root, assignment, student)
    shutil.rmtree(course_root / "autograded" / student / assignment, ignore_errors=True)
    return status, reason


def autograde(course_root: Path, names: list[str] | None = None,
              limits: Limits | None = None) -> list[Score]:
    """Autograde every submission under ``submitted/<student>/<assignment>/``; return the scores.

    The gradebook (``gradebook.db`` in the course root) learns each assignment from
    ``solutions/`` first; the student copies it would write go to a scratch folder, so the
    committed ``notebooks/`` are never touched. Each submission is graded on its own (see the
    module docstring); feedback HTML is written to ``feedback/`` for every one. Grades already
    in the gradebook (manual grades) are kept.
    """
    course_root = Path(course_root).resolve()
    limits = limits or Limits()
    names = names or _submitted_assignments(course_root)
    if not names:
        return []
    if limits.sandbox and not sandbox.can_isolate():
        print(sandbox.isolation_warning(), file=sys.stderr)
    outcomes: dict[tuple[str, str], tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="nbgrader-gradebook-") as scratch:
        for name in names:
            sources = sorted((course_root / SOURCE_DIR / name).glob("*.ipynb"))
            _nbgrader(course_root, "generate_assignment", name, "--force",
                      f"--CourseDirectory.release_directory={scratch}/release")
            for student in _students(course_root, name):
                outcomes[student, name] = _grade_one(course_root, name, student, sources,
                                                     Path(scratch) / "staged", limits)
            # one feedback run for the class (nbgrader goes on past a failing notebook), then a
            # page of our own for each submission that was not graded or has no feedback
            _nbgrader(course_root, "generate_feedback", name, "--force", check=False)
            for (student, assignment), (status, reason) in outcomes.items():
                if assignment != name:
                    continue
                missing = [p for p in sources if not (course_root / "feedback" / student / name /
                                                      f"{p.stem}.html").is_file()]
                if status != "graded" or missing:
                    _write_feedback(course_root, name, student, sources, status,
                                    reason or "feedback could not be generated")
    scores = []
    with _gradebook(course_root) as gradebook:
        for (student, name), (status, reason) in sorted(outcomes.items()):
            submission = gradebook.find_submission(name, student)
            scores.append(Score(student, name, submission.score, submission.max_score,
                                status, reason))
    return scores


def _print_scores(scores: list[Score]) -> None:
    if not scores:
        print(f"No submissions found under {SUBMITTED_DIR}/<student>/<assignment>/.")
        return
    width = max(len(s.student) for s in scores)
    for s in sorted(scores, key=lambda s: (s.assignment, s.student)):
        line = f"{s.assignment}  {s.student:<{width}}  {s.score:g} / {s.max_score:g}"
        if s.status != "graded" or s.reason:
            line += f"  [{s.status}] {s.reason}"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
            _print_scores(autograde(args.course_root, args.assignments or None, Limits(
                args.cell_timeout, args.notebook_timeout, args.memory_mb, not args.no_sandbox)))
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
