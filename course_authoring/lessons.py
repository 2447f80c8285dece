"""Lesson notebooks executed in place and checked for a clean commit (maintainers, all chapters).

:func:`execute_in_place` runs a lesson top to bottom in a fresh kernel, in its own folder, and
saves it with normalised metadata; :func:`problems` says why a committed lesson is not clean.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = ["ALLOWED_CELL_METADATA", "KERNELSPEC", "execute_in_place", "normalize", "problems"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ALLOWED_CELL_METADATA = {"tags", "nbgrader", "editable", "deletable", "mystnb"}


def normalize(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only the metadata the course needs: kernelspec, language name, cell tags/nbgrader."""
    notebook.metadata = nbformat.from_dict(
        {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    for cell in notebook.cells:
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in ALLOWED_CELL_METADATA}
        )
        cell.pop("id", None)
    notebook.nbformat, notebook.nbformat_minor = 4, 4
    return notebook


def execute_in_place(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in a fresh ``python3`` kernel, in its folder; save it; return seconds."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
        record_timing=False,
    )
    client.execute()
    nbformat.write(normalize(notebook), path)
    return time.perf_counter() - start


def problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Why a committed lesson notebook is not clean; an empty list when it is."""
    found = []
    if notebook.metadata.get("kernelspec", {}).get("name") != "python3":
        found.append("kernelspec is not python3")
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    counts = [c.get("execution_count") for c in code_cells]
    if counts != list(range(1, len(code_cells) + 1)):
        found.append(f"execution counts are not 1..{len(code_cells)} in order: {counts}")
    for index, cell in enumerate(notebook.cells):
        extra = set(cell.metadata) - ALLOWED_CELL_METADATA
        if extra:
            found.append(f"cell {index} has stray metadata {sorted(extra)}")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index} has an error output ({output.get('ename')})")
            if "image/png" in output.get("data", {}) and not _alt_text(cell):
                found.append(f"cell {index} shows a figure without alt text (mystnb.image.alt)")
    return found


def _alt_text(cell: nbformat.NotebookNode) -> str:
    """The figure description myst-nb puts in the page's <img alt>, from the cell's metadata."""
    return str(cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")).strip()
