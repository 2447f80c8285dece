"""The course's nbgrader steps (course_grading.nbgrader_steps) on hand-made cells (no kernel),
and the HTML nbgrader renders with them (feedback, Formgrader), without running nbgrader."""

from __future__ import annotations

import copy
import itertools

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader.utils import determine_grade
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course_grading import nbgrader_steps
from course_grading.nbgrader_steps import (
    HideHiddenTestTracebacks,
    ScoreByErrorOnly,
    StderrToStdout,
    TruncateOutputs,
    truncate_output,
)
from tests.support import REPO

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


# --- ScoreByErrorOnly: a test cell's score is decided by its error output alone

def execute_result(text: str) -> nbformat.NotebookNode:
    return new_output("execute_result", data={"text/plain": text}, execution_count=3)


ERROR = new_output("error", ename="AssertionError", evalue="wrong", traceback=[])
OUTPUTS = {
    "score-2": execute_result("2"),
    "score-0": execute_result("0"),
    "not-a-number": execute_result("'done'"),
    "display": new_output("display_data", data={"text/plain": "2"}),
    "stdout": new_output("stream", name="stdout", text="2\n"),
    "stderr": new_output("stream", name="stderr", text="warning\n"),
    "error": ERROR,
}


def test_nbgrader_alone_reads_an_execute_result_before_the_error() -> None:
    """The trap: a thread's sys.displayhook(2) earned a failing test its points."""
    assert determine_grade(grade_cell(execute_result("2"), ERROR)) == (2, 2)


@pytest.mark.parametrize("names", [
    pytest.param(names, id="+".join(names) or "no-output")
    for n in range(3) for names in itertools.product(OUTPUTS, repeat=n)])
def test_submission_emits_outputs_into_a_test_cell(names: tuple[str, ...]) -> None:
    """Full points iff no error output, whatever else a submission puts in the cell."""
    cell = run(ScoreByErrorOnly(), grade_cell(*(copy.deepcopy(OUTPUTS[n]) for n in names)))
    assert determine_grade(cell) == ((0, 2) if "error" in names else (2, 2))
    assert all(o.output_type != "execute_result" for o in cell.outputs)
    nbformat.validate(new_notebook(cells=[cell]))


def test_an_execute_result_is_still_shown_as_display_data() -> None:
    cell = run(ScoreByErrorOnly(), grade_cell(new_output(
        "execute_result", data={"text/plain": "2", "text/html": "<b>2</b>"}, execution_count=3)))
    assert cell.outputs[0].output_type == "display_data"
    assert cell.outputs[0].data == {"text/plain": "2", "text/html": "<b>2</b>"}


def test_manually_graded_answer_cells_are_left_alone() -> None:
    cell = grade_cell(execute_result("1"))
    cell.metadata["nbgrader"]["solution"] = True
    assert run(ScoreByErrorOnly(), cell).outputs[0].output_type == "execute_result"


# --- nbgrader_config.py: each step where it must be

def course_config() -> Config:
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def test_config_scores_by_error_after_execution_and_before_saving() -> None:
    steps = [s.rsplit(".", 1)[-1] for s in course_config().Autograde.autograde_preprocessors]
    assert steps.index("GuardedExecute") < steps.index("StderrToStdout") \
        < steps.index("ScoreByErrorOnly") < steps.index("SaveAutoGrades")
    assert steps.index("TruncateOutputs") < steps.index("ScoreByErrorOnly")


def test_config_removes_quoted_tests_while_the_tests_are_still_there() -> None:
    steps = [s.rsplit(".", 1)[-1] for s in course_config().GenerateFeedback.preprocessors]
    assert steps.index("GetGrades") < steps.index("HideHiddenTestTracebacks") \
        < steps.index("RemoveQuotedHiddenTests") < steps.index("ClearHiddenTests")


@pytest.mark.parametrize("ename", ["KeyboardInterrupt", "CellTimeoutError"])
def test_a_cell_stopped_at_its_time_limit_says_so(ename: str) -> None:
    cell = new_code_cell("while True: pass", outputs=[
        new_output("stream", name="stdout", text="started\n"),
        new_output("error", ename=ename, evalue="", traceback=["...internals..."])])
    nbgrader_steps._name_the_time_limit(cell, 60)
    error = cell.outputs[1]
    assert error.ename == ename  # what the score table and the grade go by
    assert error.evalue == "stopped at the time limit of 60 s for this cell"
    assert error.traceback == [f"{ename}: stopped at the time limit of 60 s for this cell"]
    assert cell.outputs[0].text == "started\n"


def test_other_errors_of_a_slow_cell_are_left_as_they_are() -> None:
    cell = new_code_cell("x", outputs=[new_output("error", ename="AssertionError",
                                                  evalue="wrong", traceback=["t"])])
    nbgrader_steps._name_the_time_limit(cell, 60)
    assert cell.outputs[0].evalue == "wrong"
