"""Autograde every submission of a class, one submission at a time (instructors, ``make grade``).

Grading is built to survive bad submissions (book/using-the-course.md says what is protected):
each submission is checked first (:mod:`~course_grading.preflight`, :mod:`~course_grading.tamper`),
then graded by its own nbgrader process with its own time limit, in the sandboxed kernel
(:mod:`~course_grading.sandbox`, :mod:`~course_grading.nbgrader_steps`). Whatever happens to one
submission is recorded as its outcome (a score and a reason) and the run goes on.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_grading import preflight, sandbox, tamper
from course_grading.course import folder, load_config, students, submitted_assignments
from course_grading.gradebook import open_gradebook, record_zero
from course_grading.nbgrader_call import NbgraderRunner

__all__ = ["RunLimits", "Score", "autograde", "generate_assignment"]


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
class RunLimits:
    """Overrides of the limits in nbgrader_config.py for one run (None: the configured value)."""

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
        config = load_config(course_root)
        notebook = self.notebook_timeout or config.GuardedExecute.get("notebook_timeout", 600)
        cell = self.cell_timeout or config.Execute.get("timeout", 60)
        return notebook + cell + 120


KERNEL_TROUBLE = {"DeadKernelError", "NotRun", "CellTimeoutError", "KeyboardInterrupt",
                  "MemoryError"}
GENERIC = ("There was an error processing", "Please see", "Removing failed", "Traceback")


def _write_feedback(feedback: Path, assignment: str, sources: list[Path], status: str,
                    reason: str) -> None:
    """A short feedback page in ``feedback`` for a submission that nbgrader did not grade."""
    feedback.mkdir(parents=True, exist_ok=True)
    for source in sources:
        (feedback / f"{source.stem}.html").write_text(
            f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{assignment}</title>"
            f"</head><body><h1>{html.escape(assignment)}: {html.escape(status)}</h1>"
            f"<p>Details:</p><pre>{html.escape(reason)}</pre></body></html>\n")


def _run_notes(autograded: Path) -> list[str]:
    """What went wrong while the notebooks in ``autograded`` ran: kernel death, time limits."""
    notes = []
    for path in sorted(autograded.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []):
                if output.output_type == "error" and output.ename in KERNEL_TROUBLE:
                    notes.append(f"cell {index}: {output.ename}")
    return notes[:1] + (["... and later cells not run"] if any("NotRun" in n for n in notes)
                        and "NotRun" not in notes[0] else [])


def _last_error(stderr: str) -> str:
    """The most telling line of nbgrader's log: the last exception, else the last ERROR."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
    logged = [line.split("ERROR]", 1)[1].strip() for line in lines if "| ERROR]" in line
              and not any(g in line for g in GENERIC)]
    return (errors or logged or lines or ["no output"])[-1][:300]


def _checks(submitted: Path, sources: list[Path], staged: Path) -> tuple[str, list[str]]:
    """Pre-flight and tamper check of one submission: ("graded" | "rejected" | "tampering",
    notes); a gradeable submission is staged, repaired, in ``staged``."""
    check = preflight.prepare(submitted, sources, staged)
    if not check.gradeable:
        return "rejected", check.notes
    found = []
    for source in sources:
        if source.name in check.notebooks:
            found += tamper.find_tampering(check.notebooks[source.name],
                                           nbformat.read(source, as_version=4))
    if found:
        more = [f"{len(found) - 3} more"] if len(found) > 3 else []
        return "tampering", [*map(str, found[:3]), *more]
    return "graded", check.notes


def _grade_one(nbgrader: NbgraderRunner, course_root: Path, assignment: str, student: str,
               sources: list[Path], staging: Path, limits: RunLimits) -> tuple[str, str]:
    """Checks, then nbgrader in its own process; returns (status, reason)."""
    submitted = folder(course_root, "submitted") / student / assignment
    autograded = folder(course_root, "autograded") / student / assignment
    status, notes = _checks(submitted, sources, staging / student / assignment)
    reason = "; ".join(notes)
    if status == "graded":
        result = nbgrader.run(course_root, "autograde", assignment, "--student", student,
                              "--force", f"--CourseDirectory.submitted_directory={staging}",
                              *limits.nbgrader_options(),
                              timeout=limits.process_timeout(course_root), check=False)
        if result.returncode == 0:
            return "graded", "; ".join(notes + _run_notes(autograded))
        status, reason = "failed", "nbgrader failed: " + _last_error(result.stderr)
    record_zero(course_root, assignment, student)
    shutil.rmtree(autograded, ignore_errors=True)
    return status, reason


def generate_assignment(nbgrader: NbgraderRunner, course_root: Path, name: str,
                        scratch: Path) -> None:
    """Record the assignment's grade cells in the gradebook (the copies go to ``scratch``)."""
    nbgrader.run(course_root, "generate_assignment", name, "--force",
                 f"--CourseDirectory.release_directory={scratch / 'release'}")


def _grade_assignment(nbgrader: NbgraderRunner, course_root: Path, name: str, scratch: Path,
                      limits: RunLimits, feedback: bool,
                      generate: bool) -> dict[str, tuple[str, str]]:
    """Grade every submission of one assignment and write its feedback; outcomes by student."""
    sources = sorted((folder(course_root, "source") / name).glob("*.ipynb"))
    if generate:
        generate_assignment(nbgrader, course_root, name, scratch)
    outcomes = {student: _grade_one(nbgrader, course_root, name, student, sources,
                                    scratch / "staged", limits)
                for student in students(course_root, name)}
    if not feedback:
        return outcomes
    # one feedback run for the class (nbgrader goes on past a failing notebook), then a page of
    # our own for each submission that was not graded or has no feedback
    nbgrader.run(course_root, "generate_feedback", name, "--force", check=False)
    for student, (status, reason) in outcomes.items():
        feedback = folder(course_root, "feedback") / student / name
        missing = [p for p in sources if not (feedback / f"{p.stem}.html").is_file()]
        if status != "graded" or missing:
            _write_feedback(feedback, name, sources, status,
                            reason or "feedback could not be generated")
    return outcomes


def autograde(course_root: Path, names: list[str] | None = None,
              limits: RunLimits | None = None, feedback: bool = True,
              generate: bool = True) -> list[Score]:
    """Autograde every submission under ``submitted/<student>/<assignment>/``; return the scores.

    Grades already in the gradebook (manual grades) are kept; feedback HTML is written for
    every submission unless ``feedback`` is false; the committed ``notebooks/`` are never touched.
    ``generate=False`` skips recording the assignments in the gradebook, which must hold them.
    """
    course_root = Path(course_root).resolve()
    limits = limits or RunLimits()
    names = names or submitted_assignments(course_root)
    if not names:
        return []
    if limits.sandbox and not sandbox.can_isolate():
        print(sandbox.isolation_warning(), file=sys.stderr)
    outcomes: dict[tuple[str, str], tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="nbgrader-autograde-") as scratch, \
            NbgraderRunner() as nbgrader:
        for name in names:
            for student, outcome in _grade_assignment(nbgrader, course_root, name, Path(scratch),
                                                      limits, feedback, generate).items():
                outcomes[student, name] = outcome
    scores = []
    with open_gradebook(course_root) as gradebook:
        for (student, name), (status, reason) in sorted(outcomes.items()):
            submission = gradebook.find_submission(name, student)
            scores.append(Score(student, name, submission.score, submission.max_score,
                                status, reason))
    return scores
