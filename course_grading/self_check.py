"""A learner's check of their own exercise: the course's full grading of one notebook.

``make check-exercise EXERCISE=01`` (``python -m course_grading check ...``) grades a copy of the
learner's notebook exactly as an instructor's ``make grade`` would — pre-flight and tamper checks,
the sandboxed kernel, the visible *and* hidden tests of ``solutions/`` — in a scratch course of its
own, and reports each part's points and, for each failed test, its message. The learner's
notebook is only read; the course's gradebook and folders are not touched.

Recording an assignment's grade cells in a new gradebook takes longer than grading exercise 1, so
the gradebook as it stands after that step is kept in ``.cache/check-exercise/`` (git-ignored),
under a key made of the assignment's source files, the configuration and nbgrader's version.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_grading import sandbox, zygote
from course_grading.autograde import RunLimits, Score, autograde, generate_assignment, with_zygote
from course_grading.course import CONFIG_FILE, GradingError, folder, source_notebooks
from course_grading.gradebook import open_gradebook
from course_grading.nbgrader_call import NbgraderRunner

__all__ = ["LEARNER", "PartResult", "check_notebook", "find_notebook"]

LEARNER = "you"  # the student name of the scratch course's only submission
MESSAGE_CHARS = 400
CACHE = Path(".cache") / "check-exercise"  # in the course root


@dataclass(frozen=True)
class PartResult:
    """One graded test cell: its points and, when it failed, what its test said."""

    grade_id: str
    score: float
    max_score: float
    message: str = ""  # empty when the tests passed


def find_notebook(course_root: Path, exercise: str, workspace: str = "work") -> Path:
    """The learner's notebook for ``exercise``: a path, a folder name, or its number ("01")."""
    given = Path(exercise)
    if given.suffix == ".ipynb":
        if not given.is_file():
            raise GradingError(f"{exercise} does not exist")
        return given
    work = Path(course_root) / workspace
    matches = sorted(p for p in work.glob(f"{exercise}*/*.ipynb")) if work.is_dir() else []
    if len(matches) != 1:
        found = "none" if not matches else ", ".join(str(p) for p in matches)
        raise GradingError(f"no single exercise notebook in {work} matches {exercise!r} "
                           f"(found: {found}); `make lab` creates your copies there")
    return matches[0]


def _assignment_of(notebook: Path, course_root: Path) -> str:
    """The assignment whose source notebook has the same name as ``notebook``."""
    source = folder(course_root, "source") / notebook.stem / notebook.name
    if not source.is_file():
        raise GradingError(f"no {source.relative_to(course_root)}: either {notebook.name} is not "
                           "one of the course's exercises, or this copy of the course has no "
                           "hidden tests (a class graded for credit keeps them private; press "
                           "Validate in the notebook instead)")
    return notebook.stem


def _scratch_course(course_root: Path, scratch: Path, assignment: str, notebook: Path) -> None:
    """A course of its own in ``scratch``: the config, the assignment's source, one submission."""
    config = (course_root / CONFIG_FILE).read_text()
    # its own gradebook, whatever database the class uses
    config += f'\nc.CourseDirectory.db_url = "sqlite:///{scratch / "gradebook.db"}"\n'
    (scratch / CONFIG_FILE).write_text(config)
    source = folder(course_root, "source")
    shutil.copytree(source / assignment, folder(scratch, "source") / assignment)
    submitted = folder(scratch, "submitted") / LEARNER / assignment
    submitted.mkdir(parents=True)
    shutil.copyfile(notebook, submitted / notebook.name)


def _error_message(cell: nbformat.NotebookNode) -> str:
    """The exception a test cell ended with, as ``Name: message`` (empty when there is none)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS] + " …"
    return ""


def _parts(scratch: Path, assignment: str, notebook_name: str) -> list[PartResult]:
    """Each graded cell's points (from the gradebook) and message (from the graded notebook)."""
    graded = folder(scratch, "autograded") / LEARNER / assignment / notebook_name
    if not graded.is_file():
        return []
    cells = {cell.metadata["nbgrader"]["grade_id"]: cell
             for cell in nbformat.read(graded, as_version=4).cells
             if cell.metadata.get("nbgrader", {}).get("grade")}
    results = []
    with open_gradebook(scratch) as gradebook:
        for grade_id, cell in cells.items():
            grade = gradebook.find_grade(grade_id, Path(notebook_name).stem, assignment, LEARNER)
            results.append(PartResult(grade_id, grade.score, grade.max_score,
                                      "" if grade.score >= grade.max_score
                                      else _error_message(cell) or "no points for this part"))
    return results


def _cache_key(course_root: Path, assignment: str) -> str:
    """What the recorded gradebook depends on: the sources, the configuration, nbgrader."""
    from nbgrader import __version__ as nbgrader_version

    digest = hashlib.sha256(nbgrader_version.encode())
    digest.update((course_root / CONFIG_FILE).read_bytes())
    source = folder(course_root, "source") / assignment
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(path.relative_to(source).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _gradebook_with_assignment(course_root: Path, scratch: Path, assignment: str) -> None:
    """Put a gradebook that holds ``assignment`` into the scratch course, from the cache if
    it is there, else by recording it (and caching the result)."""
    cached = course_root / CACHE / f"{assignment}-{_cache_key(course_root, assignment)}.db"
    gradebook = scratch / "gradebook.db"
    if not cached.is_file():
        with NbgraderRunner() as nbgrader:
            generate_assignment(nbgrader, scratch, assignment, scratch / "generated")
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copyfile(gradebook, partial)
        partial.replace(cached)  # whole or not at all, also when two checks run at once
    else:
        shutil.copyfile(cached, gradebook)


def check_notebook(notebook: Path, course_root: Path,
                   limits: RunLimits | None = None) -> tuple[Score, list[PartResult]]:
    """Grade a copy of ``notebook`` with every test of the course; the score and each part."""
    course_root, notebook = Path(course_root).resolve(), Path(notebook).resolve()
    assignment = _assignment_of(notebook, course_root)
    limits = limits or RunLimits()
    with tempfile.TemporaryDirectory(prefix="check-exercise-") as scratch, \
            ExitStack() as warm:
        if limits.sandbox and limits.warm:  # it imports while the scratch course is made
            path = warm.enter_context(zygote.running(
                sandbox.kernel_environment(os.environ),
                zygote.imported_modules(source_notebooks(course_root, assignment))))
            limits = with_zygote(limits, path)
        scratch_root = Path(scratch)
        _scratch_course(course_root, scratch_root, assignment, notebook)
        _gradebook_with_assignment(course_root, scratch_root, assignment)
        (score,) = autograde(scratch_root, [assignment], limits, feedback=False, generate=False)
        return score, _parts(scratch_root, assignment, notebook.name)
