"""The course's nbgrader steps (course_grading.nbgrader_steps) on hand-made cells (no kernel)."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader.utils import determine_grade

from course_grading import nbgrader_steps
from course_grading.nbgrader_steps import (
    HideHiddenTestTracebacks,
    StderrToStdout,
    TruncateOutputs,
    truncate_output,
)

GRADE = {"grade": True, "grade_id": "test-1", "points": 2, "solution": False, "locked": True,
         "schema_version": 3}


def grade_cell(*outputs: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return new_code_cell("assert True", metadata={"nbgrader": dict(GRADE)}, outputs=list(outputs))


def run(preprocessor, cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook, _ = preprocessor.preprocess(new_notebook(cells=[cell]), {})
    return notebook.cells[0]


def test_nbgrader_alone_zeroes_a_passing_cell_with_stderr() -> None:
    """The trap StderrToStdout closes (nbgrader.utils.determine_grade, 0.9)."""
    cell = grade_cell(new_output("stream", name="stderr", text="RuntimeWarning: overflow\n"))
    assert determine_grade(cell) == (0, 2)


def test_stderr_in_a_grade_cell_no_longer_costs_points() -> None:
    cell = run(StderrToStdout(), grade_cell(
        new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")))
    assert determine_grade(cell) == (2, 2)
    assert cell.outputs[0].text == "RuntimeWarning: overflow\n"


def test_an_error_still_fails_the_cell() -> None:
    cell = run(StderrToStdout(), grade_cell(
        new_output("stream", name="stderr", text="warning\n"),
        new_output("error", ename="AssertionError", evalue="", traceback=[])))
    assert determine_grade(cell) == (0, 2)


def test_a_huge_single_line_is_truncated_with_a_marker() -> None:
    output = truncate_output(new_output("stream", name="stdout", text="x" * 5_000_000), 1000)
    assert len(output.text) < 1200
    assert "truncated by the grader: 5,000,000 characters" in output.text


def test_huge_html_is_removed_and_small_outputs_are_kept() -> None:
    big = new_output("display_data", data={"text/html": "<b>x</b>" * 10_000,
                                           "text/plain": "<HTML>"})
    small = new_output("execute_result", data={"text/plain": "42"}, execution_count=1)
    cell = run(TruncateOutputs(max_chars=1000), grade_cell(big, small))
    assert "text/html" not in cell.outputs[0].data
    assert "removed by the grader" in cell.outputs[0].data["text/plain"]
    assert cell.outputs[1].data == {"text/plain": "42"}


def test_a_long_traceback_is_cut() -> None:
    output = truncate_output(new_output("error", ename="E", evalue="v",
                                        traceback=["line " * 100] * 1000), 5000)
    assert sum(len(line) for line in output.traceback) < 6000


def test_feedback_tracebacks_of_grade_cells_keep_only_the_error_line() -> None:
    error = new_output("error", ename="AssertionError", evalue="values differ",
                       traceback=["----> 7 np.testing.assert_allclose(sigmoid(_z), ...)",
                                  "AssertionError: values differ"])
    cell = run(HideHiddenTestTracebacks(), grade_cell(error))
    assert cell.outputs[0].traceback[0] == "AssertionError: values differ"
    assert "_z" not in "".join(cell.outputs[0].traceback)


def test_guarded_execute_hands_its_limits_to_the_kernel() -> None:
    execute = nbgrader_steps.GuardedExecute(notebook_timeout=30, memory_limit_mb=1024)
    limits = execute.kernel_limits()
    assert (limits.memory_mb, limits.cpu_seconds) == (1024, 60)
    env = limits.to_env()
    assert env["COURSE_SANDBOX_MEMORY_MB"] == "1024"
