"""course_authoring.lessons: normalize() and problems(), and the committed lessons."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_authoring import lessons
from tests.support import REPO

LESSONS = sorted((REPO / "book").glob("*.ipynb"))


def clean_notebook() -> nbformat.NotebookNode:
    """A notebook that passes every check: python3 kernel, counts 1..n, no stray metadata."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Title"),
            new_code_cell("x = 1", execution_count=1),
            new_code_cell("print(x)", execution_count=2, outputs=[
                new_output("stream", name="stdout", text="1\n"),
            ]),
        ],
        metadata={"kernelspec": dict(lessons.KERNELSPEC)},
    )
    nb.cells[1].metadata["tags"] = ["nbval-ignore-output"]
    return nb


def messy_notebook() -> nbformat.NotebookNode:
    nb = clean_notebook()
    nb.metadata["widgets"] = {"state": {}}
    nb.metadata["kernelspec"] = {"name": "conda-env-py", "display_name": "conda"}
    nb.cells[1].metadata.update({"scrolled": True, "ExecuteTime": {"start": "x"}})
    nb.cells[2].metadata["collapsed"] = False
    nb.cells[2].metadata["nbgrader"] = {"grade": False}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    return nb


# --- normalize ----------------------------------------------------------------------------------


def test_normalize_keeps_only_kernelspec_and_language_in_notebook_metadata():
    nb = lessons.normalize(messy_notebook())
    assert dict(nb.metadata) == {
        "kernelspec": lessons.KERNELSPEC,
        "language_info": {"name": "python"},
    }


def test_normalize_strips_stray_cell_metadata():
    nb = lessons.normalize(messy_notebook())
    assert all(set(cell.metadata) <= lessons.ALLOWED_CELL_METADATA for cell in nb.cells)


def test_normalize_keeps_tags_and_nbgrader_metadata():
    nb = lessons.normalize(messy_notebook())
    assert nb.cells[1].metadata["tags"] == ["nbval-ignore-output"]
    assert nb.cells[2].metadata["nbgrader"] == {"grade": False}


def test_normalize_removes_cell_ids():
    nb = lessons.normalize(messy_notebook())
    assert not any("id" in cell for cell in nb.cells)


def test_normalize_sets_nbformat_4_4_so_missing_ids_are_valid():
    nb = lessons.normalize(messy_notebook())
    assert (nb.nbformat, nb.nbformat_minor) == (4, 4)
    nbformat.validate(nb)


def test_normalize_keeps_sources_and_outputs():
    nb = lessons.normalize(messy_notebook())
    assert [cell.source for cell in nb.cells] == ["# Title", "x = 1", "print(x)"]
    assert nb.cells[2].outputs[0]["text"] == "1\n"


def test_normalized_notebook_survives_a_write_read_round_trip(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(lessons.normalize(messy_notebook()), path)
    assert lessons.problems(nbformat.read(path, as_version=4)) == []


# --- problems -----------------------------------------------------------------------------------


def test_problems_of_a_clean_notebook_is_empty():
    assert lessons.problems(clean_notebook()) == []


def test_problems_reports_wrong_kernelspec():
    nb = clean_notebook()
    nb.metadata["kernelspec"]["name"] = "python3-custom"
    assert any("kernelspec" in problem for problem in lessons.problems(nb))


def test_problems_reports_missing_kernelspec():
    nb = clean_notebook()
    del nb.metadata["kernelspec"]
    assert any("kernelspec" in problem for problem in lessons.problems(nb))


@pytest.mark.parametrize(
    "counts", [(2, 1), (1, 3), (None, None), (1, None), (3, 4)],
    ids=["swapped", "gap", "unexecuted", "half-executed", "not-from-one"],
)
def test_problems_reports_non_sequential_execution_counts(counts):
    nb = clean_notebook()
    nb.cells[1].execution_count, nb.cells[2].execution_count = counts
    assert any("execution counts" in problem for problem in lessons.problems(nb))


def test_problems_reports_error_outputs_with_the_cell_and_exception_name():
    nb = clean_notebook()
    nb.cells[2].outputs.append(
        new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])
    )
    assert "cell 2 has an error output (ZeroDivisionError)" in lessons.problems(nb)


def test_problems_reports_stray_cell_metadata_by_name():
    nb = clean_notebook()
    nb.cells[0].metadata["jp-MarkdownHeadingCollapsed"] = True
    assert lessons.problems(nb) == ["cell 0 has stray metadata ['jp-MarkdownHeadingCollapsed']"]


def test_problems_reports_every_problem_at_once():
    nb = clean_notebook()
    nb.metadata["kernelspec"]["name"] = "ir"
    nb.cells[1].execution_count = 5
    nb.cells[1].metadata["scrolled"] = True
    nb.cells[2].outputs.append(new_output("error", ename="E", evalue="", traceback=[]))
    assert len(lessons.problems(nb)) == 4


# --- committed lessons --------------------------------------------------------------------------


@pytest.mark.parametrize("path", LESSONS, ids=[path.name for path in LESSONS])
def test_committed_lesson_notebook_has_no_problems(path):
    assert lessons.problems(nbformat.read(path, as_version=4)) == []


def test_problems_reports_a_figure_without_alt_text():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig = plot()", execution_count=1)
    figure = {"image/png": "iVBOR", "text/plain": "<Figure>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=figure)]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3"}
    assert any("alt text" in p for p in lessons.problems(nb))
    cell.metadata["mystnb"] = {"image": {"alt": "A line rising from left to right."}}
    assert not any("alt text" in p for p in lessons.problems(nb))
