"""Pre-flight checks of a submission before nbgrader sees it (instructors).

:func:`prepare` reads ``submitted/<student>/<assignment>/``, decides whether it can be graded,
repairs what can be repaired, and writes a clean copy to a staging folder that nbgrader grades
instead of the submission itself. The policy (documented in book/using-the-course.md):

- only the assignment's notebooks and ``timestamp.txt`` are staged: extra files and folders
  (a submitted ``numpy/``) never reach the grading kernel;
- no notebook, or several candidates for one expected name: not graded, 0 with a reason;
- exactly one notebook under another name (``01-concepts (1).ipynb``): graded as the expected
  notebook, with a note;
- not valid JSON, not a notebook, or larger than ``MAX_NOTEBOOK_BYTES``: 0 with a reason;
- a grade_id used twice: the first cell keeps it; later copies become ordinary cells (their code
  still runs, they earn nothing); a grade_id unknown to the assignment: an ordinary cell;
- ``timestamp.txt`` that cannot be parsed, lies in the future or before 2000: dropped (nbgrader
  then records no submission time), with a note.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

__all__ = ["MAX_NOTEBOOK_BYTES", "Preflight", "prepare", "submitted_notebooks"]

MAX_NOTEBOOK_BYTES = 20 * 2**20
GRADING_KEYS = ("grade", "solution", "locked", "task", "points")  # what a student may not change
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
    """The notebook at ``path``, or why it cannot be graded."""
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return f"{path.name} is {size / 2**20:.0f} MiB (limit {MAX_NOTEBOOK_BYTES // 2**20} MiB)"
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        return f"{path.name} is not valid JSON ({error})"
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        try:
            nbformat.validate(notebook)
        except nbformat.ValidationError:  # cell ids in an nbformat 4.4 notebook, ...
            _upgrade_cell_ids(notebook)
            nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"{path.name} is not a valid notebook ({first_line})"
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
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _grade_ids(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    """The nbgrader metadata of the assignment's cells, by grade_id."""
    return {c.metadata["nbgrader"]["grade_id"]: {**c.metadata["nbgrader"], "cell_type": c.cell_type}
            for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id")}


def _repair_grade_ids(notebook: nbformat.NotebookNode, known: dict[str, dict]) -> list[str]:
    """Keep the first cell of each known grade_id, with the assignment's nbgrader metadata
    (points, grade, locked); make the others ordinary cells."""
    notes, seen = [], set()
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not grade_id and "nbgrader" in cell.metadata:
            del cell.metadata["nbgrader"]
        if not grade_id:
            continue
        if grade_id not in known:
            notes.append(f"cell {index}: unknown grade_id {grade_id!r}, treated as ordinary")
        elif grade_id in seen:
            notes.append(f"cell {index}: grade_id {grade_id!r} used twice, the first one is graded")
        else:
            seen.add(grade_id)
            meta = cell.metadata["nbgrader"]
            expected = {k: v for k, v in known[grade_id].items() if k in GRADING_KEYS}
            if {k: meta.get(k) for k in expected} != expected:
                notes.append(f"cell {index}: nbgrader metadata of {grade_id!r} restored")
                meta.update(expected)
            if cell.cell_type != known[grade_id]["cell_type"]:
                notes.append(f"cell {index}: {grade_id!r} made {cell.cell_type}, restored as "
                             f"{known[grade_id]['cell_type']}")
                _set_cell_type(cell, known[grade_id]["cell_type"])
            continue
        del cell.metadata["nbgrader"]
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
        known = _grade_ids(nbformat.read(source, as_version=4))
        result.notes += _repair_grade_ids(notebook, known)
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
