"""One zip of a class's notebooks, as an LMS downloads it, into ``submitted/`` (instructors).

``make collect-zip`` runs :func:`collect_zip`: the zip is kept under nbgrader's
``downloaded/<assignment>/archive/<zip name>/`` and nbgrader's own ``zip_collect`` extracts it
and names each notebook's student by ``FileNameCollectorPlugin.named_regexp`` (nbgrader_config.py).
The zip is checked before anything is extracted: macOS's ``__MACOSX/`` folder and hidden files
are left out of it, and a zip with a notebook the naming does not match is refused whole (never
half-collected). nbgrader collects into a scratch folder: only new submissions, or ones identical
to what is there, reach ``submitted/``, so a student's existing submission is never overwritten
or deleted. :data:`LMS_PATTERNS` holds the naming of three learning management systems' zips.
"""

from __future__ import annotations

import io
import ntpath
import os
import posixpath
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from course_grading.course import GradingError, assignments, folder, load_config
from course_grading.nbgrader_call import run_nbgrader

__all__ = ["LMS_PATTERNS", "Collected", "Collection", "collect_zip"]

NAMING = ("a folder per student named <student id>_<anything> holding the notebook, "
          "e.g. ada_1234/01-concepts.ipynb")
# c.FileNameCollectorPlugin.named_regexp for the zips of three LMSs (book/using-the-course.md)
LMS_PATTERNS = {
    # a folder per submission: "Ada Lovelace_1234_assignsubmission_file_/01-concepts.ipynb";
    # the student id is the participant number
    "Moodle": r".*/[^/]*_(?P<student_id>\d+)_assignsubmission_file_/(?P<file_id>[^/]+\.ipynb)$",
    # flat: "lovelaceada_1234_5678_01-concepts.ipynb" ("lovelaceada_late_1234_..." when late)
    "Canvas": r".*/(?P<student_id>[a-z0-9]+)_(?:late_)?\d+_\d+_(?P<file_id>[^/_]+\.ipynb)$",
    # flat: "<assignment>_ada_attempt_2026-12-01-10-00-00_01-concepts.ipynb", and a .txt each
    "Blackboard": r".*/[^/]*?_(?P<student_id>[A-Za-z0-9.@-]+)_attempt_[0-9-]+_"
                  r"(?P<file_id>[^/]+\.ipynb)$",
}
NBGRADER_TIMEOUT = 300  # seconds for nbgrader zip_collect, a last resort


@dataclass(frozen=True)
class Collected:
    """What one student's folder of the zip gave."""

    student: str
    files: tuple[str, ...]  # paths under submitted/<student>/<assignment>/
    new: bool  # False: submitted/ already held these same files, nothing was copied


@dataclass(frozen=True)
class Collection:
    """The outcome of one collected zip."""

    assignment: str
    archive: Path  # where the zip is kept, for nbgrader
    students: tuple[Collected, ...]
    skipped: tuple[str, ...]  # files of the zip, not notebooks, that do not match the naming
    notebooks: tuple[str, ...]  # the assignment's notebooks, by name
    ignored: tuple[str, ...] = ()  # macOS's __MACOSX/ and hidden files, left out of the zip


def _folders(config: Config) -> tuple[str, str, str]:
    """nbgrader's ``downloaded``, ``archive`` and ``extracted`` folder names."""
    zip_collect = config.ZipCollectApp
    return (zip_collect.get("downloaded_directory", "downloaded"),
            zip_collect.get("archive_directory", "archive"),
            zip_collect.get("extracted_directory", "extracted"))


def _check_entry(info: zipfile.ZipInfo, zip_name: str) -> None:
    """Refuse an entry that would be written outside the folder it is extracted to."""
    name = info.filename
    if (name.startswith("/") or "\\" in name or ntpath.splitdrive(name)[0]
            or ".." in name.split("/") or stat.S_ISLNK(info.external_attr >> 16)):
        raise GradingError(f"refused {zip_name}: its entry {name!r} would be written outside the "
                           "folder it is extracted to (an absolute path, '..' or a link); "
                           "nothing was extracted or collected")


def _files(archive: zipfile.ZipFile, zip_name: str, folder: str = "") -> Iterator[str]:
    """The paths of the files nbgrader extracts from ``archive`` (under ``folder``), nested
    zips included (each into a folder named after it); every entry is checked first."""
    for info in archive.infolist():
        _check_entry(info, zip_name)
    for info in archive.infolist():
        if info.is_dir():
            continue
        path = posixpath.join(folder, info.filename)
        yield path
        if posixpath.splitext(info.filename)[1] == ".zip":  # nbgrader's ExtractorPlugin.zip_ext
            data = io.BytesIO(archive.read(info))
            if not zipfile.is_zipfile(data):
                raise GradingError(f"refused {zip_name}: {info.filename!r} is not a zip file, "
                                   "so nbgrader could not extract it; nothing was collected")
            with zipfile.ZipFile(data) as nested:
                yield from _files(nested, f"{zip_name}:{info.filename}",
                                  posixpath.splitext(path)[0])


def _safe_match(match: dict[str, str], path: str) -> None:
    """Refuse a student id or notebook name that would lead out of ``submitted/``."""
    student, file_id = match.get("student_id") or "", match.get("file_id") or ""
    if (student in ("", ".", "..") or "/" in student or "\\" in student
            or not file_id or file_id.startswith("/") or ".." in file_id.split("/")):
        raise GradingError(f"refused: the naming gives {path!r} the student {student!r} and the "
                           f"notebook {file_id!r}, which would lead out of submitted/; check "
                           "c.FileNameCollectorPlugin.named_regexp in nbgrader_config.py")


def _ignored(path: str) -> bool:
    """macOS's resource forks (``__MACOSX/``) and hidden files: never a submission."""
    return any(part == "__MACOSX" or part.startswith(".") for part in path.split("/"))


def _plan(zip_path: Path, config: Config,
          extracted: Path) -> tuple[list[str], list[str], list[str]]:
    """The zip's files that the naming collects, those it skips and those ignored; GradingError
    when a notebook does not match the naming, when none does, or when an entry is unsafe."""
    regexp = config.FileNameCollectorPlugin.get("named_regexp", "")
    if not regexp:
        raise GradingError("nbgrader_config.py sets no c.FileNameCollectorPlugin.named_regexp, "
                           "so nbgrader cannot tell whose notebook is whose")
    extensions = config.FileNameCollectorPlugin.get("valid_ext", [".ipynb"])
    with zipfile.ZipFile(zip_path) as archive:
        files = list(_files(archive, zip_path.name))
    collected, skipped, unmatched = [], [], []
    ignored = [path for path in files if _ignored(path)]
    for path in files:
        if path in ignored:
            continue
        full = os.path.join(extracted, _stem(zip_path), path)  # the path nbgrader matches
        notebook = posixpath.splitext(path)[1] in extensions
        match = re.match(regexp, full) if notebook else None
        if match and match.groups():
            _safe_match(match.groupdict(), path)
            collected.append(path)
        else:
            (unmatched if notebook else skipped).append(path)
    if unmatched and collected:
        shown = ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else "")
        raise GradingError(
            f"refused {zip_path.name} whole, so that no student is left out: {len(unmatched)} of "
            f"its notebooks are not named as c.FileNameCollectorPlugin.named_regexp in "
            f"nbgrader_config.py expects ({shown}); set the pattern of your LMS (the instructors' "
            f"page lists Moodle's, Canvas's and Blackboard's) and run again; nothing was collected")
    if not collected:
        shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "") or "no files"
        raise GradingError(f"no notebook of {zip_path.name} is named as the course expects: "
                           f"{NAMING} (c.FileNameCollectorPlugin.named_regexp = {regexp!r} in "
                           f"nbgrader_config.py); the zip holds {shown}; nothing was collected")
    return collected, skipped, ignored


def _without(zip_path: Path, ignored: list[str], scratch: Path) -> Path:
    """A copy of the zip, under the same name in ``scratch``, without the ``ignored`` entries."""
    cleaned = scratch / zip_path.name
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(cleaned, "w") as target:
        for info in source.infolist():
            if not _ignored(info.filename):
                target.writestr(info, source.read(info))
    return cleaned


def _stem(zip_path: Path) -> str:
    """The zip's name without ``.zip``: nbgrader extracts it into a folder of that name."""
    return zip_path.stem if zip_path.suffix.lower() == ".zip" else zip_path.name


def _check_inputs(course_root: Path, assignment: str, zip_path: Path) -> None:
    known = assignments(course_root)
    if assignment not in known:
        raise GradingError(f"no assignment {assignment!r} under "
                           f"{folder(course_root, 'source').name}/ (there are: "
                           f"{', '.join(known) or 'none'})")
    if not zip_path.is_file():
        raise GradingError(f"no zip file at {zip_path}")
    if not zipfile.is_zipfile(zip_path):
        raise GradingError(f"{zip_path} is not a zip file")


def _keep(zip_path: Path, archive: Path) -> Path | None:
    """Copy the zip into ``archive``; the copy, or None when that very zip was there already."""
    kept = archive / f"{_stem(zip_path)}.zip"
    if kept.exists():
        if kept.read_bytes() == zip_path.read_bytes():
            return None
        raise GradingError(f"{kept} holds another zip of that name, collected before: rename "
                           f"{zip_path.name} and run again; nothing was collected")
    archive.mkdir(parents=True, exist_ok=True)
    shutil.copy2(zip_path, kept)
    return kept


def _contents(path: Path) -> dict[str, bytes]:
    """Every file under ``path``, by its path relative to it."""
    if not path.is_dir():
        return {}
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def _nbgrader_error(stderr: str) -> str:
    """The last error line of nbgrader's log."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.split("ERROR]", 1)[1].strip() for line in lines if "ERROR]" in line]
    return (errors or lines or ["no output"])[-1][:300]


def _transfer(scratch: Path, submitted: Path, assignment: str) -> list[Collected]:
    """Copy what nbgrader collected in ``scratch`` into ``submitted``: every student's folder
    must be new or identical to the one there, or nothing is copied."""
    found, conflicts = [], []
    for student_folder in sorted(p for p in scratch.iterdir() if p.is_dir()):
        student = student_folder.name
        files = _contents(student_folder / assignment)
        existing = _contents(submitted / student / assignment)
        if existing and existing != files:
            conflicts.append(student)
        found.append(Collected(student, tuple(files), new=not existing))
    if conflicts:
        folders = ", ".join(f"{submitted.name}/{student}/{assignment}/" for student in conflicts)
        raise GradingError(
            f"{', '.join(conflicts)} already {'has' if len(conflicts) == 1 else 'have'} a "
            f"submission of {assignment} that differs from the zip's, and a submission is never "
            f"replaced: nothing was collected. To collect the zip's, move {folders} out of "
            f"{submitted.name}/ (to keep it) and run again")
    for collected in found:
        if collected.new:
            shutil.copytree(scratch / collected.student / assignment,
                            submitted / collected.student / assignment, dirs_exist_ok=True)
    return found


def collect_zip(course_root: Path, assignment: str, zip_path: Path) -> Collection:
    """Collect the notebooks of ``zip_path`` as submissions of ``assignment``, with nbgrader's
    ``zip_collect``; on any error nothing reaches ``submitted/`` and the zip is not kept."""
    course_root, zip_path = Path(course_root).resolve(), Path(zip_path).resolve()
    _check_inputs(course_root, assignment, zip_path)
    config = load_config(course_root)
    downloaded, archive_name, extracted_name = _folders(config)
    collect = course_root / downloaded / assignment
    _, skipped, ignored = _plan(zip_path, config, collect / extracted_name)
    archive = collect / archive_name / _stem(zip_path)
    with tempfile.TemporaryDirectory(prefix="nbgrader-zip-clean-") as cleaning:
        added = _keep(_without(zip_path, ignored, Path(cleaning)) if ignored else zip_path,
                      archive)
    try:
        with tempfile.TemporaryDirectory(prefix="nbgrader-zip-collect-") as scratch:
            # --force empties extracted/, nbgrader's copy of the archive, and would empty a
            # student's folder: here only in the scratch folder, never in submitted/
            result = run_nbgrader(
                course_root, "zip_collect", assignment, "--force",
                f"--ZipCollectApp.archive_directory={archive.relative_to(collect).as_posix()}",
                f"--CourseDirectory.submitted_directory={scratch}",
                timeout=NBGRADER_TIMEOUT, check=False)
            if result.returncode != 0:
                raise GradingError(f"nbgrader zip_collect failed: "
                                   f"{_nbgrader_error(result.stderr)}; nothing was collected")
            students = _transfer(Path(scratch), folder(course_root, "submitted", config),
                                 assignment)
    except BaseException:
        if added is not None:  # the course as it was: the zip is not kept
            added.unlink()
            if not any(archive.iterdir()):
                archive.rmdir()
        raise
    notebooks = sorted(p.name for p in (folder(course_root, "source", config) / assignment)
                       .glob("*.ipynb"))
    return Collection(assignment, archive, tuple(students), tuple(skipped), tuple(notebooks),
                      tuple(ignored))
