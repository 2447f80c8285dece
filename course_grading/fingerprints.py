"""What each submission was last graded from, so that a grading run skips what has not changed.

A submission's record (``.grading/<assignment>/<student>.json`` in the course root) holds two
SHA-256 fingerprints: of the learner's submitted files, and of what grades them (the assignment's
source notebooks and the settings of ``nbgrader_config.py`` that can change a grade: all but
those in :data:`NOT_GRADING`), with the outcome of that grading. A submission is
graded again when either fingerprint differs, or when its record or its gradebook entry is missing.
``.grading/<assignment>.generated`` holds the fingerprint of the assignment as last recorded in
the gradebook, so that a run records it again only when it changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from course_grading.course import folder, load_config

__all__ = ["NOT_GRADING", "RECORDS_FOLDER", "GradingRecord", "assignment_fingerprint",
           "grading_settings", "read_generated", "read_record", "submission_fingerprint",
           "write_generated", "write_record"]

RECORDS_FOLDER = ".grading"
# settings that no grade depends on (a class name alone: the whole section): where the gradebook
# and the exchange are, how an LMS names its files; changing them re-grades nothing
NOT_GRADING = {"CourseDirectory": {"db_url", "course_id"}, "Exchange": None,
               "ExchangeFactory": None, "FileNameCollectorPlugin": None, "ZipCollectApp": None}


@dataclass(frozen=True)
class GradingRecord:
    """How a submission was graded last: from which files, with which outcome."""

    submission: str  # fingerprint of the submitted files
    assignment: str  # fingerprint of the source notebooks and the nbgrader configuration
    status: str
    reason: str


def _digest(files: list[tuple[str, Path]]) -> str:
    """SHA-256 over (name, content) pairs, in name order."""
    digest = hashlib.sha256()
    for name, path in sorted(files):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def submission_fingerprint(course_root: Path, assignment: str, student: str) -> str:
    """Fingerprint of every file a student submitted for ``assignment``."""
    submitted = folder(course_root, "submitted") / student / assignment
    return _digest([(str(path.relative_to(submitted)), path)
                    for path in submitted.rglob("*") if path.is_file()])


def grading_settings(course_root: Path) -> str:
    """The settings of the course's configuration that can change a grade, as canonical JSON."""
    kept = {}
    for section, values in load_config(course_root).items():
        dropped = NOT_GRADING.get(section, set())
        if dropped is None:
            continue
        values = {key: value for key, value in dict(values).items() if key not in dropped}
        if values:
            kept[section] = values
    return json.dumps(kept, sort_keys=True, default=repr)


def assignment_fingerprint(course_root: Path, assignment: str) -> str:
    """Fingerprint of what grades ``assignment``: its source notebooks and the settings that can
    change a grade."""
    source = folder(course_root, "source") / assignment
    digest = hashlib.sha256(_digest([(f"source/{path.name}", path)
                                     for path in source.glob("*.ipynb")]).encode())
    digest.update(b"\0" + grading_settings(course_root).encode())
    return digest.hexdigest()


def _path(course_root: Path, assignment: str, student: str) -> Path:
    return Path(course_root) / RECORDS_FOLDER / assignment / f"{student}.json"


def read_record(course_root: Path, assignment: str, student: str) -> GradingRecord | None:
    """The submission's last grading record; None when there is none (or it is unreadable)."""
    try:
        return GradingRecord(**json.loads(_path(course_root, assignment, student).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_record(course_root: Path, assignment: str, student: str, record: GradingRecord) -> None:
    """Save the record, atomically: a run that is killed leaves the old record or the new one."""
    path = _path(course_root, assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(record), indent=1) + "\n")
    partial.replace(path)


def _generated_path(course_root: Path, assignment: str) -> Path:
    return Path(course_root) / RECORDS_FOLDER / f"{assignment}.generated"


def read_generated(course_root: Path, assignment: str) -> str | None:
    """What :func:`write_generated` last saved for ``assignment``; None when nothing."""
    try:
        return _generated_path(course_root, assignment).read_text().strip() or None
    except OSError:
        return None


def write_generated(course_root: Path, assignment: str, key: str) -> None:
    """Save ``key`` (the assignment's fingerprint and its gradebook) after recording it there."""
    path = _generated_path(course_root, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(key + "\n")
    partial.replace(path)
