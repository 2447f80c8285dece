"""Pre-flight checks of a submission before nbgrader sees it (instructors).

:func:`prepare` reads ``submitted/<student>/<assignment>/``, decides whether it can be graded,
repairs what can be repaired, and writes a clean copy to a staging folder that nbgrader grades
instead of the submission itself. The policy (documented in book/using-the-course.md):

- only the assignment's notebooks and ``timestamp.txt`` are staged: extra files and folders
  (a submitted ``numpy/``) never reach the grading kernel;
- no notebook, or several candidates for one expected name: not graded, 0 with a reason;
- exactly one notebook under another name (``01-concepts (1).ipynb``): graded as the expected
  notebook, with a note;
- not valid JSON, not a notebook, larger than ``MAX_NOTEBOOK_BYTES`` or with more than
  ``MAX_CELLS`` cells (running them would only run into the notebook's time limit): 0 with a
  reason;
- every cell's metadata is rebuilt from the assignment's source notebook, so nothing a student
  sets there reaches nbgrader or nbclient (a ``skip-execution`` tag on a test cell, a
  ``raises-exception`` tag, changed points): a cell with a grade_id the assignment knows gets
  exactly the source cell's metadata; every other cell gets none (no tags); the notebook's own
  metadata is the source's (kernelspec, language_info). Stored outputs are dropped. A note
  says when something graded changed (the nbgrader block, a cell type) or a tag was ignored;
- a grade_id used twice: the first cell keeps it; later copies become ordinary cells (their code
  still runs, they earn nothing); a grade_id unknown to the assignment: an ordinary cell;
- ``timestamp.txt`` that cannot be parsed, lies in the future or before 2000: dropped (nbgrader
  then records no submission time), with a note.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

__all__ = ["MAX_CELLS", "MAX_NOTEBOOK_BYTES", "Preflight", "prepare", "submitted_notebooks"]

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELLS = 1000  # the exercises have about 20
# what nbgrader adds to the nbgrader block of the student copy (and resets when it grades)
RELEASE_KEYS = ("checksum", "cell_type")
EARLIEST_TIMESTAMP = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Preflight:
    """What the pre-flight found: ``gradeable`` is False when the submission scores 0 unrun."""

    gradeable: bool = True
    notes: list[str] = field(default_factory=list)
    notebooks: dict[str, nbformat.NotebookNode] = field(default_factory=dict)  # by expected name

    def reject(self, reason: str) -> Preflight:
        self.gradeable = False
        self.notes.append(reason)
        return self


def submitted_notebooks(folder: Path) -> list[Path]:
    """The notebooks at the top of a submission folder (no hidden files, no checkpoints)."""
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))


def _read(path: Path) -> nbformat.NotebookNode | str:
    """The notebook at ``path``, or why it cannot be graded.

    Never raises: whatever stops the reading rejects this submission, not the grading run.
    Deeply nested JSON (``{"cells": [[[[...`` or deep cell metadata) makes ``json.loads``,
    nbformat and jsonschema raise RecursionError, not ValueError; a huge one MemoryError.
    """

    def first_line(error: BaseException) -> str:
        try:  # a jsonschema error prints the offending instance, which may be as deep
            text = str(error).strip()
        except Exception:  # noqa: BLE001 - RecursionError, MemoryError
            text = ""
        return (text.splitlines()[0] if text else type(error).__name__)[:200]

    problem = "unreadable"
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return (f"{path.name} is {size / 2**20:.0f} MiB "
                    f"(limit {MAX_NOTEBOOK_BYTES // 2**20} MiB)")
        problem = "not valid JSON"
        data = json.loads(path.read_bytes())
        cells = data.get("cells") if isinstance(data, dict) else None
        if isinstance(cells, list) and len(cells) > MAX_CELLS:
            return f"{path.name} has {len(cells):,} cells (limit {MAX_CELLS:,})"
        problem = "not a valid notebook"
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        try:
            nbformat.validate(notebook)
        except nbformat.ValidationError:  # cell ids in an nbformat 4.4 notebook, ...
            _upgrade_cell_ids(notebook)
            nbformat.validate(notebook)
    except RecursionError:
        return f"{path.name} is nested too deeply to read"
    except MemoryError:
        return f"{path.name} is too large or nested too deeply to read"
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds
        return f"{path.name} is {problem} ({first_line(error)})"
    return notebook


def _upgrade_cell_ids(notebook: nbformat.NotebookNode) -> None:
    """Make the notebook nbformat 4.5 with unique cell ids (what Jupyter does on save)."""
    notebook.nbformat_minor = max(notebook.nbformat_minor, 5)
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        if not cell.get("id") or cell.id in seen:
            cell.id = f"cell-{index}"
        seen.add(cell.id)


def _set_cell_type(cell: nbformat.NotebookNode, cell_type: str) -> None:
    """nbgrader's own repair of a changed cell type fails on notebooks without cell ids."""
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
        cell.pop("attachments", None)  # markdown and raw cells only
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    """The cell's nbgrader block, or {} when it has none (or not a dict)."""
    meta = cell.metadata.get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    tags = cell.metadata.get("tags") or []
    return [str(t) for t in tags] if isinstance(tags, list) else [str(tags)]


def _short(value: object, limit: int = 60) -> str:
    try:
        text = repr(value)
    except RecursionError:  # nested just below what json.loads accepts
        text = f"<{type(value).__name__} nested too deeply>"
    return text if len(text) <= limit else text[:limit] + "..."


def _graded(meta: dict) -> dict:
    """What of an nbgrader block decides grading (not what nbgrader adds on release)."""
    return {k: v for k, v in meta.items() if k not in RELEASE_KEYS}


def _known_cells(source: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The assignment's cells that carry a grade_id, by grade_id."""
    return {_nbgrader(c)["grade_id"]: c for c in source.cells if _nbgrader(c).get("grade_id")}


def _normalise(notebook: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[str]:
    """Rebuild all metadata from ``source``: a known grade_id's first cell gets the source
    cell's, every other cell none; drop outputs. Returns what to note."""
    known, notes, seen = _known_cells(source), [], set()
    for index, cell in enumerate(notebook.cells):
        grade_id, tags = _nbgrader(cell).get("grade_id"), _tags(cell)
        original = known.get(grade_id) if isinstance(grade_id, str) else None
        if original is not None and grade_id in seen:
            notes.append(f"cell {index}: grade_id {grade_id!r} used twice, the first one is graded")
            original = None
        elif original is None and grade_id:
            notes.append(f"cell {index}: unknown grade_id {_short(grade_id)}, treated as ordinary")
        if original is None:
            cell.metadata = nbformat.NotebookNode()
        else:
            seen.add(grade_id)
            if _graded(_nbgrader(cell)) != _graded(_nbgrader(original)):
                notes.append(f"cell {index}: nbgrader metadata of {grade_id!r} restored")
            if cell.cell_type != original.cell_type:
                notes.append(f"cell {index}: {grade_id!r} made {cell.cell_type}, restored as "
                             f"{original.cell_type}")
                _set_cell_type(cell, original.cell_type)
            cell.metadata = copy.deepcopy(original.metadata)
        ignored = [t for t in tags if t not in _tags(cell)]
        if ignored:
            more = [f"and {len(ignored) - 5} more"] if len(ignored) > 5 else []
            notes.append(f"cell {index}: tags ignored: "
                         + ", ".join([*(_short(t, 40) for t in ignored[:5]), *more]))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata = copy.deepcopy(source.metadata)
    missing = [g for g in known if g not in seen]
    if missing:
        notes.append(f"cells missing, restored from the assignment: {', '.join(missing)}")
    return notes


def _timestamp_note(path: Path) -> str | None:
    """None when ``timestamp.txt`` is plausible, otherwise why it is dropped."""
    from nbgrader.utils import parse_utc

    text = path.read_text(errors="replace").strip()
    try:
        when = parse_utc(text)
    except (ValueError, OverflowError, TypeError):
        return f"timestamp.txt unreadable ({text[:40]!r}): ignored"
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > datetime.now(UTC) or when < EARLIEST_TIMESTAMP:
        return f"timestamp.txt implausible ({text[:40]}): ignored"
    return None


def prepare(folder: Path, source_notebooks: list[Path], staging: Path) -> Preflight:
    """Check ``folder`` against the assignment's ``source_notebooks``; stage a clean copy."""
    result = Preflight()
    found = submitted_notebooks(folder) if folder.is_dir() else []
    expected = [p.name for p in source_notebooks]
    if not found:
        return result.reject(f"no notebook submitted (expected {', '.join(expected)})")
    for source in source_notebooks:
        path = folder / source.name
        if not path.is_file():
            others = [p for p in found if p.name not in expected]
            if len(expected) == 1 and len(others) == 1:
                path = others[0]
                result.notes.append(f"notebook renamed: {path.name!r} graded as {source.name!r}")
            else:
                result.notes.append(f"{source.name} missing (found: "
                                    f"{', '.join(p.name for p in found)}): its cells score 0")
                continue
        notebook = _read(path)
        if isinstance(notebook, str):
            return result.reject(notebook)
        result.notes += _normalise(notebook, nbformat.read(source, as_version=4))
        result.notebooks[source.name] = notebook
    if not result.notebooks:
        return result.reject(result.notes.pop())
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, notebook in result.notebooks.items():
        nbformat.write(notebook, staging / name)
    timestamp = folder / "timestamp.txt"
    if timestamp.is_file():
        note = _timestamp_note(timestamp)
        if note:
            result.notes.append(note)
        else:
            shutil.copy2(timestamp, staging / "timestamp.txt")
    return result
