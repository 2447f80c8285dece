"""Autograde the submissions of a class, several at a time, only what changed (``make grade``).

Grading is built to survive bad submissions (book/using-the-course.md says what is protected):
each submission is checked first (:mod:`~course_grading.preflight`, :mod:`~course_grading.tamper`),
then graded by its own nbgrader process with its own time limit, in the sandboxed kernel
(:mod:`~course_grading.sandbox`, :mod:`~course_grading.nbgrader_steps`). Whatever happens to one
submission is recorded as its outcome (a score and a reason) and the run goes on: an unexpected
error while one submission is checked, graded, given its manual grades back, its feedback or its
record (:func:`_grade_and_record`, the one place that catches it) makes that submission "failed",
0 in the gradebook where it can still be written, with a feedback page of ours; only the
instructor's Ctrl-C (KeyboardInterrupt) stops the run. nbgrader's feedback has its own time limit
(``RunLimits.feedback_timeout``); when it fails or runs out, the student gets a short page of ours.

The tamper check (:mod:`~course_grading.tamper`) decides a status by the kind of its findings:

- a *change* to what the tests rely on (rebinding a name the tests use, writing to a module, a
  namespace or the kernel's shell, ``setattr`` on a module, a cell too deeply nested to check):
  the submission is not run and scores 0, status "tampering", the lines in the reason;
- only *capabilities* that correct code may use harmlessly but an attack could use (``exec``,
  ``eval``, ``get_ipython()`` outside the allowed magics, imports of ``inspect``/``gc``/...,
  introspection attributes, a computed ``getattr``, ``globals()`` passed on): the submission is
  graded normally and keeps its automatic score, status "review" (graded, but an instructor should
  read the lines named in the reason); nothing found is "graded".

Statuses: "graded" and "review" keep the automatic score (:data:`GRADED_STATUSES`); "rejected"
(pre-flight), "tampering" and "failed" (nbgrader or the grading itself) score 0, with a reason.

``jobs`` submissions are graded at once, each by its own nbgrader process, which needs a
gradebook that takes concurrent writers (PostgreSQL). A submission whose files and assignment are
unchanged since it was last graded is not graded again (:mod:`~course_grading.fingerprints`)
unless ``regrade`` asks for it.
"""

from __future__ import annotations

import hashlib
import html
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO, TypeVar

import nbformat

from course_grading import preflight, sandbox, tamper, zygote
from course_grading.course import (
    GradingError,
    folder,
    load_config,
    source_notebooks,
    students,
    submitted_assignments,
)
from course_grading.fingerprints import (
    GradingRecord,
    assignment_fingerprint,
    read_generated,
    read_record,
    submission_fingerprint,
    write_generated,
    write_record,
)
from course_grading.gradebook import (
    check_reachable,
    db_url,
    graded_students,
    holds_assignment,
    keep_manual_grades,
    manual_overrides,
    open_gradebook,
    record_zero,
)
from course_grading.nbgrader_call import NbgraderRunner
from course_grading.progress import Progress

__all__ = ["GRADED_STATUSES", "RunLimits", "Score", "autograde", "generate_assignment"]

T = TypeVar("T")


@dataclass(frozen=True)
class Score:
    """One student's autograded score on one assignment."""

    student: str
    assignment: str
    score: float
    max_score: float
    # graded | review (graded, but the tamper check asks a person to look) | rejected
    # (pre-flight) | tampering (a change to what the tests use: 0) | failed (nbgrader, grading)
    status: str = "graded"
    reason: str = ""
    manual: tuple[str, ...] = ()  # grade ids whose score an instructor set by hand
    graded_now: bool = True  # False: unchanged since it was last graded, so not graded again


# the statuses whose score is the automatic grade (the others score 0)
GRADED_STATUSES = ("graded", "review")


@dataclass(frozen=True)
class RunLimits:
    """Overrides of the limits in nbgrader_config.py for one run (None: the configured value)."""

    cell_timeout: int | None = None
    notebook_timeout: int | None = None
    memory_mb: int | None = None
    sandbox: bool = True  # False: the notebook's own kernel, no limits (for comparisons only)
    warm: bool = True  # False: every kernel imports its libraries itself (course_grading.zygote)
    options: list[str] = field(default_factory=list)  # more `--Class.trait=value` for nbgrader
    feedback_timeout: float = 60  # seconds for one submission's `nbgrader generate_feedback`

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


ZYGOTE_OPTION = "--GuardedExecute.zygote="  # a run's own zygote (see _warm_kernels)
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
                    part = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index}"
                    notes.append(f"{part}: {output.ename}"
                                 + (f" ({output.evalue})" if output.get("evalue") else ""))
    return notes[:1] + (["... and later cells not run"] if any("NotRun" in n for n in notes)
                        and "NotRun" not in notes[0] else [])


def _last_error(stderr: str) -> str:
    """The most telling line of nbgrader's log: the last exception, else the last ERROR."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
    logged = [line.split("ERROR]", 1)[1].strip() for line in lines if "| ERROR]" in line
              and not any(g in line for g in GENERIC)]
    return (errors or logged or lines or ["no output"])[-1][:300]


# CPython 3.11's compiler is not safe to call from two threads at once (ast.parse can fail with
# "AST constructor recursion depth mismatch"): the parallel jobs take turns for these checks.
_CHECKS_LOCK = threading.Lock()


def _checks(submitted: Path, sources: list[Path], staged: Path) -> tuple[str, list[str]]:
    """Pre-flight and tamper check of one submission: ("graded" | "review" | "rejected" |
    "tampering", notes); a gradeable submission is staged, repaired, in ``staged``."""
    with _CHECKS_LOCK:
        return _checks_in_turn(submitted, sources, staged)


def _checks_in_turn(submitted: Path, sources: list[Path], staged: Path) -> tuple[str, list[str]]:
    check = preflight.prepare(submitted, sources, staged)
    if not check.gradeable:
        return "rejected", check.notes
    found = []
    for source in sources:
        if source.name in check.notebooks:
            found += tamper.find_tampering(check.notebooks[source.name],
                                           nbformat.read(source, as_version=4))
    changes = [finding for finding in found if finding.zeroes]
    if changes:
        return "tampering", _first_three(changes)
    if found:  # capabilities only: graded, and flagged for a person to look at
        return "review", check.notes + _first_three(found)
    return "graded", check.notes


def _first_three(findings: list[tamper.Finding]) -> list[str]:
    more = [f"{len(findings) - 3} more"] if len(findings) > 3 else []
    return [*map(str, findings[:3]), *more]


def _grade_one(nbgrader: NbgraderRunner, course_root: Path, assignment: str, student: str,
               sources: list[Path], staging: Path, limits: RunLimits) -> tuple[str, str]:
    """Checks, then nbgrader in its own process; returns (status, reason)."""
    submitted = folder(course_root, "submitted") / student / assignment
    autograded = folder(course_root, "autograded") / student / assignment
    status, notes = _checks(submitted, sources, staging / student / assignment)
    reason = "; ".join(notes)
    if status in GRADED_STATUSES:
        result = nbgrader.run(course_root, "autograde", assignment, "--student", student,
                              "--force", f"--CourseDirectory.submitted_directory={staging}",
                              *limits.nbgrader_options(),
                              timeout=limits.process_timeout(course_root), check=False)
        if result.returncode == 0:
            _copy_exchange_files(submitted, autograded, ("submission_secret.txt",))
            return status, "; ".join(notes + _run_notes(autograded))
        status, reason = "failed", "nbgrader failed: " + _last_error(result.stderr)
    record_zero(course_root, assignment, student)
    shutil.rmtree(autograded, ignore_errors=True)
    return status, reason


def generate_assignment(nbgrader: NbgraderRunner, course_root: Path, name: str,
                        scratch: Path) -> None:
    """Record the assignment's grade cells in the gradebook (the copies go to ``scratch``)."""
    nbgrader.run(course_root, "generate_assignment", name, "--force",
                 f"--CourseDirectory.release_directory={scratch / 'release'}")


@dataclass(frozen=True)
class _Run:
    """What every submission of one grading run shares."""

    course_root: Path
    scratch: Path
    limits: RunLimits
    runners: queue.Queue[NbgraderRunner]
    jobs: int
    regrade: bool
    feedback: bool
    generate: bool
    progress: TextIO | None

    @contextmanager
    def runner(self) -> Iterator[NbgraderRunner]:
        """One of the run's nbgrader servers, for one command at a time."""
        nbgrader = self.runners.get()
        try:
            yield nbgrader
        finally:
            self.runners.put(nbgrader)

    def map(self, function: Callable[[str], T], items: list[str]) -> list[T]:
        """``function`` over ``items``, ``jobs`` at a time, results in order."""
        if self.jobs == 1 or len(items) < 2:
            return [function(item) for item in items]
        with ThreadPoolExecutor(self.jobs) as pool:
            return list(pool.map(function, items))


def _to_grade(run: _Run, name: str,
              chosen: list[str]) -> tuple[list[str], dict[str, GradingRecord]]:
    """The students of ``chosen`` whose submission must be graded, and the records of the rest."""
    if run.regrade:
        return chosen, {}
    assignment = assignment_fingerprint(run.course_root, name)
    in_gradebook = graded_students(run.course_root, name)
    todo, kept = [], {}
    for student in chosen:
        record = read_record(run.course_root, name, student)
        if (student in in_gradebook and record is not None and record.assignment == assignment
                and record.submission == submission_fingerprint(run.course_root, name, student)):
            kept[student] = record
        else:
            todo.append(student)
    return todo, kept


def _grade_and_record(run: _Run, name: str, sources: list[Path], progress: Progress,
                      student: str) -> tuple[str, str]:
    """Grade one submission, keep its manual grades, write its feedback, record how it went.

    Whatever goes wrong on the way is this submission's outcome, not the run's: this is the one
    place that catches it (KeyboardInterrupt and SystemExit still stop the run).
    """
    try:
        status, reason = _grade_keep_and_record(run, name, sources, student)
    except Exception as error:  # noqa: BLE001 - recorded as this student's outcome
        status, reason = "failed", _record_failure(run, name, sources, student, error)
    progress.done(f"{name} {student}: {status}")
    return status, reason


def _grade_keep_and_record(run: _Run, name: str, sources: list[Path],
                           student: str) -> tuple[str, str]:
    before = read_record(run.course_root, name, student)
    files = submission_fingerprint(run.course_root, name, student)
    with run.runner() as nbgrader:
        status, reason = _grade_one(nbgrader, run.course_root, name, student, sources,
                                    run.scratch / "staged", run.limits)
        # nbgrader flags every manual grade for review again; that stays only if the work changed
        unchanged = before is not None and before.submission == files
        if keep_manual_grades(run.course_root, name, student, review=not unchanged):
            reason = "; ".join(filter(None, [reason, "manual grade kept" + (
                "" if unchanged else ", but the submission changed since: review it")]))
        if run.feedback:
            reason = "; ".join(filter(None, [reason, _feedback(
                nbgrader, run.course_root, name, student, sources, status, reason,
                run.limits.feedback_timeout)]))
    write_record(run.course_root, name, student, GradingRecord(
        files, assignment_fingerprint(run.course_root, name), status, reason))
    return status, reason


def _describe(error: BaseException) -> str:
    """``Name: first line of the message`` of an exception, short."""
    try:
        lines = str(error).strip().splitlines()
    except Exception:  # noqa: BLE001 - a message too deep to print
        lines = []
    return (f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__)[:300]


def _record_failure(run: _Run, name: str, sources: list[Path], student: str,
                    error: Exception) -> str:
    """Record an unexpected ``error`` while grading one submission as its outcome, as far as
    each step still can be: 0 in the gradebook, no graded copy, a feedback page of ours, a
    record that the next run does not trust (it grades the submission again). The reason."""
    reason = f"grading stopped by {_describe(error)}"
    root = run.course_root

    def feedback_page() -> None:
        if run.feedback:
            feedback = folder(root, "feedback") / student / name
            # the student sees the kind of error only: its message may quote the assignment
            _write_feedback(feedback, name, sources, "failed",
                            f"Grading this submission stopped on an error of the grading tools "
                            f"({type(error).__name__}); your instructor has the details.")
            _copy_exchange_files(folder(root, "submitted") / student / name, feedback,
                                 EXCHANGE_FILES)

    steps: list[tuple[str, Callable[[], object]]] = [
        ("0 not recorded in the gradebook", lambda: record_zero(root, name, student)),
        ("graded copy not removed", lambda: shutil.rmtree(
            folder(root, "autograded") / student / name, ignore_errors=True)),
        ("no feedback page", feedback_page),
        # an empty fingerprint matches no submission: the next run grades it again
        ("no record", lambda: write_record(root, name, student, GradingRecord(
            "", assignment_fingerprint(root, name), "failed", reason))),
    ]
    missed = []
    for what, step in steps:
        try:
            step()
        except Exception as step_error:  # noqa: BLE001 - noted; the run goes on
            missed.append(f"{what} ({_describe(step_error)})")
    return "; ".join([reason, *missed])


def _feedback(nbgrader: NbgraderRunner, course_root: Path, name: str, student: str,
              sources: list[Path], status: str, reason: str, timeout: float) -> str:
    """nbgrader's feedback for a graded submission (killed after ``timeout`` s), else a page of
    ours; a note for the instructor when nbgrader's failed, else ""."""
    feedback = folder(course_root, "feedback") / student / name
    note = ""
    if status in GRADED_STATUSES:
        result = nbgrader.run(course_root, "generate_feedback", name, "--force", "--student",
                              student, timeout=timeout, check=False)
        missing = [p.name for p in sources if not (feedback / f"{p.stem}.html").is_file()]
        if result.returncode == -signal.SIGKILL:
            note = f"feedback not generated: nbgrader ran out of time ({timeout:g} s)"
        elif result.returncode != 0:
            note = f"feedback not generated: {_last_error(result.stderr)}"
        elif missing:
            note = f"feedback not generated for {', '.join(missing)}"
        if note:  # ours replaces whatever nbgrader left, a page of an earlier grading included
            _write_feedback(feedback, name, sources, status,
                            "Your submission was graded, but its feedback page could not be "
                            "generated; your instructor has the details.")
    else:
        _write_feedback(feedback, name, sources, status, reason)
    # nbgrader's release_feedback needs both beside every page, or it stops for the whole class
    _copy_exchange_files(folder(course_root, "submitted") / student / name, feedback,
                         EXCHANGE_FILES)
    return note


# What nbgrader's exchange needs beside the feedback to release it to the student who submitted.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def _copy_exchange_files(source: Path, target: Path, names: tuple[str, ...]) -> None:
    """Make the exchange's files ``names`` in ``target`` those of ``source`` (an earlier
    submission's are replaced or removed); they never reach the grading kernel (the pre-flight
    check stages notebooks and the timestamp only)."""
    if not target.is_dir():
        return
    for name in names:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
        else:
            (target / name).unlink(missing_ok=True)


def _record_in_gradebook(run: _Run, name: str) -> None:
    """Record the assignment's grade cells in the gradebook, unless the gradebook holds them
    from the same source notebooks and configuration already."""
    # the gradebook's URL may hold a password: only its digest is kept
    where = hashlib.sha256(db_url(run.course_root).encode()).hexdigest()
    key = f"{assignment_fingerprint(run.course_root, name)} {where}"
    if read_generated(run.course_root, name) == key and holds_assignment(run.course_root, name):
        return
    with run.runner() as nbgrader:
        generate_assignment(nbgrader, run.course_root, name, run.scratch)
    write_generated(run.course_root, name, key)


@contextmanager
def _warm_kernels(run: _Run, sources: list[Path], todo: list[str]) -> Iterator[_Run]:
    """The run, with a zygote for the kernels of this assignment's submissions when it has some
    to grade in the sandbox (:mod:`course_grading.zygote`)."""
    limits = run.limits
    if not (todo and limits.sandbox and limits.warm) or any(
            option.startswith(ZYGOTE_OPTION) for option in limits.options):
        yield run
        return
    with zygote.running(sandbox.kernel_environment(os.environ),
                        zygote.imported_modules(sources)) as path:
        yield replace(run, limits=with_zygote(limits, path))


def with_zygote(limits: RunLimits, path: str | None) -> RunLimits:
    """``limits`` for kernels that come from the zygote at ``path`` (None: cold kernels)."""
    return replace(limits, options=[*limits.options, ZYGOTE_OPTION + path]) if path else limits


def _grade_assignment(run: _Run, name: str,
                      chosen: list[str]) -> dict[str, tuple[str, str, bool]]:
    """Grade the submissions of one assignment that need it, each with its feedback;
    (status, reason, graded now) by student."""
    sources = source_notebooks(run.course_root, name)
    todo, kept = _to_grade(run, name, chosen)
    if run.generate and todo:
        _record_in_gradebook(run, name)
    progress = Progress(len(todo), run.progress)
    with _warm_kernels(run, sources, todo) as run:
        results = run.map(
            lambda student: _grade_and_record(run, name, sources, progress, student), todo)
    return {**{student: (record.status, record.reason, False) for student, record in kept.items()},
            **{student: (status, reason, True) for student, (status, reason) in zip(todo, results)}}


def _check_jobs(course_root: Path, jobs: int) -> None:
    if jobs < 1:
        raise GradingError(f"jobs must be 1 or more, not {jobs}")
    if jobs > 1 and db_url(course_root).startswith("sqlite"):
        raise GradingError(
            f"grading {jobs} submissions at once needs a gradebook that takes concurrent writers, "
            "and SQLite does not: set c.CourseDirectory.db_url in nbgrader_config.py to a "
            "PostgreSQL database (book/using-the-course.md shows how), or grade with JOBS=1")


def autograde(course_root: Path, names: list[str] | None = None,
              limits: RunLimits | None = None, feedback: bool = True,
              generate: bool = True, *, only: list[str] | None = None, jobs: int = 1,
              regrade: bool = False, progress: TextIO | None = None) -> list[Score]:
    """Autograde the submissions under ``submitted/<student>/<assignment>/``; return the scores.

    ``only`` limits the run to these students; ``jobs`` submissions are graded at once;
    submissions unchanged since they were graded are skipped unless ``regrade``; each one
    finished is reported on ``progress`` with an estimate of the time left.
    Manual grades in the gradebook are kept; feedback HTML is written for every submission
    graded unless ``feedback`` is false; the committed ``notebooks/`` are never touched.
    ``generate=False`` skips recording the assignments in the gradebook, which must hold them.
    """
    course_root = Path(course_root).resolve()
    limits = limits or RunLimits()
    _check_jobs(course_root, jobs)
    names = names or submitted_assignments(course_root)
    if not names:
        return []
    check_reachable(course_root)
    if limits.sandbox and not sandbox.can_isolate():
        print(sandbox.isolation_warning(), file=sys.stderr)
    outcomes: dict[tuple[str, str], tuple[str, str, bool]] = {}
    with tempfile.TemporaryDirectory(prefix="nbgrader-autograde-") as scratch, \
            ExitStack() as servers:
        runners: queue.Queue[NbgraderRunner] = queue.Queue()
        for _ in range(jobs):
            runners.put(servers.enter_context(NbgraderRunner()))
        run = _Run(course_root, Path(scratch), limits, runners, jobs, regrade, feedback,
                   generate, progress)
        for name in names:
            chosen = [s for s in students(course_root, name) if only is None or s in only]
            for student, outcome in _grade_assignment(run, name, chosen).items():
                outcomes[student, name] = outcome
    with open_gradebook(course_root) as gradebook:
        return [_score(gradebook, student, name, *outcome)
                for (student, name), outcome in sorted(outcomes.items())]


def _score(gradebook, student: str, name: str, status: str, reason: str,  # noqa: ANN001
           now: bool) -> Score:
    """The gradebook's score of one submission, with its outcome; 0 when the gradebook lacks
    it (a failure that could not even record the 0 there), never an error for the table."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(name, student)
    except MissingEntry:
        try:
            max_score = gradebook.find_assignment(name).max_score
        except MissingEntry:
            max_score = 0.0
        return Score(student, name, 0.0, max_score, status,
                     "; ".join(filter(None, [reason, "not in the gradebook"])), (), now)
    return Score(student, name, submission.score, submission.max_score, status, reason,
                 manual_overrides(submission), now)
