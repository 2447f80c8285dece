"""Every lesson and exercise starts with the Colab set-up cell of _config.yml's repository."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_authoring.colab import has_setup_cell, repository, setup_source
from tests.support import REPO

NOTEBOOKS = sorted([*REPO.glob("book/[0-9][0-9]-*.ipynb"), *REPO.glob("solutions/*/*.ipynb"),
                    *REPO.glob("notebooks/*/*.ipynb")])


def test_lessons_and_both_copies_of_every_exercise_are_checked() -> None:
    assert len(NOTEBOOKS) == 3 * 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_first_cell_installs_course_utils_from_the_configured_repository(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert has_setup_cell(notebook), \
        f"{path.name}: no Colab set-up cell first; run make colab-cells"
    assert notebook.cells[0].source == setup_source(repository()), \
        f"{path.name}: the set-up cell names another repository; run make colab-cells"
    assert "remove-cell" in notebook.cells[0].metadata.get("tags", [])
    if path.parent.name != "book":  # exercises: locked, so that autograding restores it
        assert notebook.cells[0].metadata["nbgrader"]["locked"]
