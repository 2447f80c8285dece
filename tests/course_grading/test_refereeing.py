"""The grader's side of the referee (course_grading.refereeing) on hand-made cells and
outputs: which cells the referee runs, the names a locked cell pins, the modules remembered at
the seal, and a cell's outputs rebuilt from a verdict signed as the referee signs it (no
kernel)."""

from __future__ import annotations

import base64
import hmac
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_grading import refereeing
from course_grading.referee import _RUN, _SEAL, _TEST, MIME, Sealer
from course_grading.refereeing import (
    ANSWER,
    RUN,
    TEST,
    Referee,
    answer_names,
    bound_names,
    cell_kind,
    modules_used,
)

KEY = bytes(range(32))
NONCE = "0123456789abcdef" * 2


def nbgrader(**flags: object) -> dict:
    return {"nbgrader": {"grade": False, "solution": False, "locked": False,
                         "grade_id": "cell", "schema_version": 3, **flags}}


def grade_cell(source: str = "assert True", *outputs: NotebookNode) -> NotebookNode:
    """An autograded test cell."""
    return new_code_cell(source, outputs=list(outputs), metadata=nbgrader(
        grade=True, locked=True, points=1, grade_id="test"))




def locked_cell(source: str = "x_check = 1", *outputs: NotebookNode) -> NotebookNode:
    return new_code_cell(source, outputs=list(outputs), metadata=nbgrader(locked=True))


def solution_cell(source: str = "def relu(z):\n    return max(z, 0)\n") -> NotebookNode:
    return new_code_cell(source, metadata=nbgrader(solution=True, grade_id="answer"))


def signed(nonce: str, ok: bool, ename: str = "", evalue: str = "", stdout: str = "",
           key: bytes = KEY) -> NotebookNode:
    """A verdict output as the referee publishes it (referee.py, publish in _referee): the
    fields base64-encoded and joined with spaces, the MAC an HMAC-SHA-256 of b"verdict" + body."""
    fields = [nonce, "1" if ok else "0", ename, evalue, stdout]
    body = " ".join(base64.b64encode(f.encode()).decode() for f in fields)
    mac = hmac.digest(key, b"verdict" + body.encode(), "sha256").hex()
    return new_output("display_data", data={MIME: {"body": body, "mac": mac}})


def kernel_noise() -> list[NotebookNode]:
    """What else a kernel may emit while a cell runs."""
    return [
        new_output("stream", name="stdout", text="from a hook\n"),
        new_output("error", ename="ValueError", evalue="kernel", traceback=["ValueError"]),
        new_output("execute_result", data={"text/plain": "10"}, execution_count=1),
        new_output("display_data", data={"text/plain": "a figure"}),
    ]


def errors(cell: NotebookNode) -> list[tuple[str, str]]:
    return [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]


@pytest.fixture
def fresh_referee() -> Referee:
    """The grader's referee for a kernel, before any request; answers bind relu and out."""
    return Referee(KEY, {"relu", "out"})


# cell_kind


def test_cell_kind_of_a_test_cell_is_test() -> None:
    assert cell_kind(grade_cell()) == TEST


def test_cell_kind_of_a_locked_cell_is_run() -> None:
    assert cell_kind(locked_cell()) == RUN


def test_cell_kind_of_a_solution_cell_is_answer() -> None:
    assert cell_kind(solution_cell()) == ANSWER


def test_cell_kind_of_an_autograded_answer_is_answer() -> None:
    cell = new_code_cell("x = 1", metadata=nbgrader(solution=True, grade=True, points=2))
    assert cell_kind(cell) == ANSWER


def test_cell_kind_of_a_plain_cell_is_answer() -> None:
    assert cell_kind(new_code_cell("x = 1")) == ANSWER


# bound_names


def test_bound_names_of_assignments_imports_defs_and_loops() -> None:
    source = (
        "a = b = 1\n"
        "c, (d, e) = 1, (2, 3)\n"
        "f += 1\n"
        "g: int = 2\n"
        "import numpy as np\n"
        "import os.path\n"
        "from math import pi as PI, tau\n"
        "def relu(z):\n    return z\n"
        "async def fetch():\n    return 1\n"
        "class Model:\n    pass\n"
        "for i, j in pairs:\n    pass\n"
        "with open(name) as handle:\n    pass\n"
        "print(unbound)\n"
    )
    assert bound_names(source) == {"a", "b", "c", "d", "e", "f", "g", "np", "os", "PI", "tau",
                                   "relu", "fetch", "Model", "i", "j", "handle"}


def test_bound_names_of_a_syntax_error_is_empty() -> None:
    assert bound_names("def broken(:\n    x = 1\n") == set()


def test_bound_names_of_ipython_syntax_is_empty() -> None:
    assert bound_names("%matplotlib inline\nx = 1\n") == set()


@pytest.mark.parametrize("source, top_level", [
    ("def f(z):\n    inner = z\n    return inner\n", {"f"}),
    ("class K:\n    attribute = 1\n", {"K"}),
    ("squares = [v * v for v in range(3)]\n", {"squares"}),
], ids=["function local", "class attribute", "comprehension variable"])
def test_bound_names_leaves_out_names_bound_in_inner_scopes(source: str,
                                                            top_level: set[str]) -> None:
    assert bound_names(source) == top_level


# modules_used


def test_modules_used_follows_an_import_alias_through_attributes() -> None:
    cells = [new_code_cell("import numpy as np\nnp.testing.assert_allclose(1, 1)\n")]
    assert modules_used(cells) == ["numpy", "numpy.testing", "numpy.testing.assert_allclose"]


def test_modules_used_follows_a_from_import_alias() -> None:
    cells = [new_code_cell("from course_utils import data as _data\n_data.load_dataset()\n")]
    assert modules_used(cells) == ["course_utils", "course_utils.data",
                                   "course_utils.data.load_dataset"]


def test_modules_used_leaves_out_a_plain_variables_attributes() -> None:
    cells = [new_code_cell("import json\nresult = object()\nresult.shape.rank\n"
                           "json.decoder.JSONDecodeError\n")]
    assert modules_used(cells) == ["json", "json.decoder", "json.decoder.JSONDecodeError"]


def test_modules_used_joins_cells_and_skips_what_does_not_parse() -> None:
    cells = [new_code_cell("import numpy as np"), new_code_cell("%timeit np.linalg.norm(x)"),
             new_code_cell("np.linalg.norm([1])"), new_code_cell("import os.path")]
    assert modules_used(cells) == ["numpy", "numpy.linalg", "numpy.linalg.norm", "os",
                                   "os.path"]


def test_modules_used_leaves_out_relative_imports() -> None:
    assert modules_used([new_code_cell("from . import sibling\nsibling.f()\n")]) == []


# answer_names


def test_answer_names_are_the_names_the_answer_cells_bind(tmp_path: Path) -> None:
    notebook = new_notebook(cells=[
        new_markdown_cell("x = 'not code'"),
        locked_cell("import numpy as np\nx_check = np.ones(3)"),
        solution_cell("def relu(z):\n    return max(z, 0)\n"),
        new_code_cell("scratch = relu(2)"),  # a cell a learner added: an answer too
        grade_cell("assert relu(-1) == 0\nchecked = True"),
    ])
    path = tmp_path / "assignment.ipynb"
    nbformat.write(notebook, path)
    assert answer_names(path) == {"relu", "scratch"}


def test_answer_names_of_a_missing_notebook_is_none(tmp_path: Path) -> None:
    assert answer_names(tmp_path / "missing.ipynb") is None


# Referee.request


@pytest.fixture
def recorded_requests(fresh_referee: Referee, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The arguments of each request the referee's Sealer makes."""
    calls: list[tuple] = []

    def record(kind: bytes, source: str = "", pins: tuple[str, ...] = ()) -> tuple[str, str]:
        calls.append((kind, source, pins))
        return "code", NONCE

    monkeypatch.setattr(fresh_referee.sealer, "request", record)
    return calls


def test_a_run_request_pins_bound_names_minus_answer_names(
        fresh_referee: Referee, recorded_requests: list[tuple]) -> None:
    source = "import numpy as np\nx_check = np.ones(3)\nout = None\nrelu = print\n"
    assert fresh_referee.request(locked_cell(source), RUN) == ("code", NONCE)
    assert recorded_requests == [(_RUN, source, ("np", "x_check"))]


def test_a_run_request_pins_nothing_without_the_assignment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    referee = Referee(KEY, None)
    calls: list[tuple] = []
    monkeypatch.setattr(referee.sealer, "request",
                        lambda *args: calls.append(args) or ("code", NONCE))
    referee.request(locked_cell("x_check = 1"), RUN)
    assert calls == [(_RUN, "x_check = 1", ())]


def test_a_test_request_pins_nothing(fresh_referee: Referee,
                                     recorded_requests: list[tuple]) -> None:
    fresh_referee.request(grade_cell("y = 1\nassert y"), TEST)
    assert recorded_requests == [(_TEST, "y = 1\nassert y", ())]


def test_a_request_holds_a_fresh_nonce(fresh_referee: Referee) -> None:
    code, nonce = fresh_referee.request(grade_cell(), TEST)
    assert code.startswith('__import__("sys").audit(')
    assert nonce == base64.b64decode(code.split('"')[5])[:16].hex()


def test_seal_marks_the_referee_sealed(fresh_referee: Referee) -> None:
    assert not fresh_referee.sealed
    fresh_referee.seal(["numpy"])
    assert fresh_referee.sealed


# Referee.judge


def test_a_passing_test_keeps_only_what_the_test_printed(fresh_referee: Referee) -> None:
    cell = grade_cell("print('hi')", *kernel_noise(), signed(NONCE, True, stdout="hi\n"))
    fresh_referee.judge(cell, TEST, NONCE)
    assert cell.outputs == [new_output("stream", name="stdout", text="hi\n")]


def test_a_passing_test_that_printed_nothing_has_no_output(fresh_referee: Referee) -> None:
    cell = grade_cell("pass", *kernel_noise(), signed(NONCE, True))
    fresh_referee.judge(cell, TEST, NONCE)
    assert cell.outputs == []


def test_a_failing_test_adds_one_error(fresh_referee: Referee) -> None:
    verdict = signed(NONCE, False, "AssertionError", "wrong shape", stdout="shape (2,)\n")
    cell = grade_cell("assert False", *kernel_noise(), verdict)
    fresh_referee.judge(cell, TEST, NONCE)
    assert [o.output_type for o in cell.outputs] == ["stream", "error"]
    assert cell.outputs[0].text == "shape (2,)\n"
    assert errors(cell) == [("AssertionError", "wrong shape")]


def test_a_failing_test_without_an_error_name_reports_error(fresh_referee: Referee) -> None:
    cell = grade_cell("assert False", signed(NONCE, False))
    fresh_referee.judge(cell, TEST, NONCE)
    assert errors(cell) == [("Error", "")]


def test_a_test_without_a_verdict_gives_one_grading_error(fresh_referee: Referee) -> None:
    cell = grade_cell("assert True", *kernel_noise())
    fresh_referee.judge(cell, TEST, NONCE)
    assert errors(cell) == [("GradingError", refereeing.NO_VERDICT)]
    assert len(cell.outputs) == 1


@pytest.mark.parametrize("forged", [
    signed(NONCE, True, stdout="all good\n", key=bytes(32)),
    signed("ff" * 16, True, stdout="all good\n"),
], ids=["another key", "another nonce"])
def test_a_forged_verdict_gives_one_grading_error(fresh_referee: Referee,
                                                  forged: NotebookNode) -> None:
    cell = grade_cell("assert True", forged)
    fresh_referee.judge(cell, TEST, NONCE)
    assert errors(cell) == [("GradingError", refereeing.NO_VERDICT)]
    assert len(cell.outputs) == 1


def test_a_forged_verdict_before_the_real_one_does_not_hide_it(fresh_referee: Referee) -> None:
    cell = grade_cell("assert True", signed(NONCE, True, key=bytes(32)),
                     signed(NONCE, False, "AssertionError", "real"))
    fresh_referee.judge(cell, TEST, NONCE)
    assert errors(cell) == [("AssertionError", "real")]


def test_a_run_cell_keeps_its_other_outputs(fresh_referee: Referee) -> None:
    noise = kernel_noise()
    cell = locked_cell("x_check = 1", *noise, signed(NONCE, True))
    fresh_referee.judge(cell, RUN, NONCE)
    assert cell.outputs == noise


def test_a_failing_run_cell_keeps_its_outputs_and_adds_the_error(
        fresh_referee: Referee) -> None:
    shown = new_output("stream", name="stdout", text="loading\n")
    cell = locked_cell("x_check = 1", shown, signed(NONCE, False, "KeyError", "'x'"))
    fresh_referee.judge(cell, RUN, NONCE)
    assert cell.outputs[0] == shown
    assert errors(cell) == [("KeyError", "'x'")]


def test_a_run_cell_without_a_verdict_drops_kernel_errors(fresh_referee: Referee) -> None:
    noise = kernel_noise()
    cell = locked_cell("x_check = 1", *noise)
    fresh_referee.judge(cell, RUN, NONCE)
    assert cell.outputs[:-1] == [o for o in noise if o.output_type != "error"]
    assert errors(cell) == [("GradingError", refereeing.NO_VERDICT)]


def test_the_signing_helper_matches_the_sealers_check() -> None:
    opened = Sealer(KEY).verdict(signed(NONCE, False, "E", "v", "out")["data"][MIME], NONCE)
    assert opened == {"nonce": NONCE, "ok": "0", "ename": "E", "evalue": "v", "stdout": "out"}


def test_the_seal_imports_the_modules_then_pins_what_locked_cells_bound_before_it(
        fresh_referee: Referee, recorded_requests: list[tuple]) -> None:
    fresh_referee.before_seal(locked_cell("import numpy as np\nx_check = np.ones(3)\nout = 1\n"))
    assert not fresh_referee.sealed
    fresh_referee.seal(["numpy", "numpy.testing"])
    assert fresh_referee.sealed
    assert recorded_requests == [(_SEAL, "", ("numpy", "numpy.testing", "", "np", "x_check"))]
