"""The static tampering check (course_grading.tamper): no false alarms on real answers, each
trick of the adversarial fixtures caught, changes (which zero) told apart from capabilities (which
flag for review), and no cell that makes the check itself fail."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_grading import tamper
from tests.support import REPO

SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))


def exercise_1() -> nbformat.NotebookNode:
    return nbformat.read(REPO / "solutions" / "01-concepts" / "01-concepts.ipynb", as_version=4)


def with_answer(code: str) -> nbformat.NotebookNode:
    """Exercise 1 with ``code`` as the answer to part 1."""
    notebook = exercise_1()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "part-1-relu-sigmoid":
            cell.source = code
    return notebook


def findings(code: str) -> list[str]:
    return [f.what for f in tamper.find_tampering(with_answer(code), exercise_1())]


def kinds(code: str) -> set[str]:
    return {f.kind for f in tamper.find_tampering(with_answer(code), exercise_1())}


def exercise(assignment: str, grade_id: str, prefix: str = "", answer: str | None = None,
             ) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """(submission, source) of ``assignment``: its solution, with ``prefix`` before (or
    ``answer`` instead of) the answer of ``grade_id``."""
    source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    submission = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb",
                               as_version=4)
    (cell,) = [c for c in submission.cells
               if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    cell.source = prefix + (cell.source if answer is None else answer)
    return submission, source


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_instructor_solutions_raise_no_finding(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert tamper.find_tampering(notebook, notebook) == []


@pytest.mark.parametrize("code", [
    "def relu(z):\n    return np.maximum(z, 0)\n",
    "import numpy as np\nimport sys\nprint('x', file=sys.stderr)\n",
    "from IPython.display import HTML, display\n",
    "%time x = np.zeros(3)\n",
    "def f():\n    isinstance = 3\n    return isinstance\n",  # a local name shadows nothing
    "values = np.zeros(3)\nvalues[0] = 1.0\n",
])
def test_ordinary_answers_are_not_flagged(code: str) -> None:
    assert findings(code) == []


# changes to what the tests rely on, which correct code never makes: each zeroes the submission
CHANGES = [
    ("np.testing.assert_allclose = lambda *a, **k: None", "np.testing.assert_allclose"),
    ("t = np.testing\nt.assert_allclose = print", "t.assert_allclose"),
    ("t = getattr(np, 'testing')\nt.assert_allclose = print", "t.assert_allclose"),
    ("np = None", "'np'"),
    ("isinstance = lambda *a: True", "'isinstance'"),
    ("def isinstance(*a):\n    return True", "'isinstance'"),
    ("import math as np", "'np'"),
    ("def f():\n    global np\n    np = 1", "'np'"),
    ("del np.testing", "np.testing"),
    ("setattr(np.testing, 'assert_allclose', print)", "setattr"),
    ("delattr(np, 'testing')", "delattr"),
    ("globals()['np'] = None", "globals"),
    ("del globals()['np']", "globals"),
    ("globals().update(np=None)", "globals"),
    ("globals().setdefault('isinstance', print)", "globals"),
    ("g = globals()\ng['np'] = None", "namespace g"),
    ("vars()['np'] = None", "vars"),
    ("m = globals().get('np')\nm.testing.assert_allclose = print", "m.testing"),
    ("relu.__globals__['np'] = None", "__globals__"),
    ("np.__dict__.update(testing=None)", "np.__dict__"),
    ("__builtins__.isinstance = print", "__builtins__"),
    ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
    ("import sys\nsys.modules.pop('numpy')", "sys.modules"),
    ("m = sys.modules['numpy']\nm.testing.assert_allclose = print", "m.testing"),
    ("get_ipython().input_transformers_cleanup.append(lambda lines: [])", "get_ipython"),
    ("ip = get_ipython()\nip.events.register('pre_run_cell', print)", "ip.events"),
    ("get_ipython().user_ns['np'] = None", "user_ns"),
    ("get_ipython().push({'np': None})", "push"),
    ("%time np.testing.assert_allclose = print", "np.testing.assert_allclose"),
    ("%timeit -n1 -r1 np.testing.assert_allclose = print", "np.testing.assert_allclose"),
    ("%timeit -n1 -r1 -v np 1", "'np'"),  # %timeit -v binds the result to a name
    ("%%time\nnp.testing.assert_allclose = print", "np.testing.assert_allclose"),
    ("%%capture\nnp.testing.assert_allclose = print", "np.testing.assert_allclose"),
    ("%%capture np\nx = 1", "'np'"),  # %%capture NAME binds the captured output to NAME
]

# capabilities: correct code may use them harmlessly, an attack could too: each flags for review
CAPABILITIES = [
    ("exec('np.x = 1')", "exec"),
    ("eval('1 + 1')", "eval"),
    ("code = compile('1', 'x', 'eval')", "compile"),
    ("m = __import__('numpy')", "__import__"),
    ("%run other.py", "get_ipython() (%run)"),
    ("!pip install numpy", "get_ipython() (!pip"),
    ("%load_ext autoreload", "get_ipython() (%load_ext)"),
    ("ip = get_ipython()", "get_ipython"),
    ("import builtins", "builtins"),
    ("import inspect", "inspect"),
    ("import gc", "gc"),
    ("import ctypes", "ctypes"),
    ("from unittest import mock", "unittest.mock"),
    ("import sys\nnames = list(sys.modules)", "sys.modules"),
    ("import sys\nframe = sys._getframe()", "sys._getframe"),
    ("f = relu.__globals__", "__globals__"),
    ("code = relu.__code__", "__code__"),
    ("getattr(np, '__dict__')", "getattr"),
    ("name = 'testing'\ngetattr(np, name)", "getattr"),
    ("print(globals())", "globals"),
    ("for name in vars(np):\n    pass", "vars"),
    ("g = globals()", "globals"),
    ("class Layer:\n    def __init__(self, w):\n        setattr(self, 'w', w)", "setattr"),
    ("import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'", "os.environ"),
]


@pytest.mark.parametrize(("code", "word"), CHANGES + CAPABILITIES)
def test_tampering_is_flagged(code: str, word: str) -> None:
    found = findings(code)
    assert any(word in what for what in found), found


@pytest.mark.parametrize(("code", "word"), CHANGES)
def test_a_change_to_what_the_tests_use_zeroes(code: str, word: str) -> None:
    found = tamper.find_tampering(with_answer(code), exercise_1())
    assert any(f.zeroes and f.kind == tamper.CHANGE and word in f.what for f in found), found


@pytest.mark.parametrize(("code", "word"), CAPABILITIES)
def test_a_capability_only_flags_for_review(code: str, word: str) -> None:
    found = tamper.find_tampering(with_answer(code), exercise_1())
    assert found and all(f.kind == tamper.CAPABILITY and not f.zeroes for f in found), found


@pytest.mark.parametrize(("assignment", "grade_id", "prefix", "answer"), [
    # exercise 4 part 3: train only once, however often the cell runs
    ("04-baseline-mlp", "part-3-train", "", 'if "history" not in globals():\n'
     "    history = train.fit(model, x_train, train_labels, epochs=5, batch_size=32, "
     "verbose=0)\n"),
    # exercise 6 part 3: Keras's output kept out of the notebook
    ("06-regularization", "part-3-train", "%%capture\n", None),
], ids=["04-reads-globals", "06-cell-magic-capture"])
def test_correct_answers_once_zeroed_raise_no_finding(
        assignment: str, grade_id: str, prefix: str, answer: str | None) -> None:
    submission, source = exercise(assignment, grade_id, prefix, answer)
    assert tamper.find_tampering(submission, source) == []


def test_importing_a_module_the_assignment_imports_again_is_not_a_finding() -> None:
    # exercise 8 imports `from course_utils import preprocess`; a learner may write it again
    submission, source = exercise("08-next-steps", "part-5-train", prefix=(
        "from course_utils import preprocess\nimport numpy as np\n"))
    assert tamper.find_tampering(submission, source) == []
    submission, source = exercise("08-next-steps", "part-5-train",
                                  prefix="from mylib import preprocess\n")
    assert [f.what for f in tamper.find_tampering(submission, source)] == [
        "rebinds 'preprocess', which the tests use"]


@pytest.mark.parametrize("code", [
    "if 'x' not in globals():\n    x = 1",
    "x = globals().get('x', 1)",
    "known = sorted(globals().keys())",
    "x = globals()['np'].pi",
    "def f():\n    return 'y' in vars()",
])
def test_reading_globals_is_not_a_finding(code: str) -> None:
    assert findings(code) == []


@pytest.mark.parametrize("code", [
    "%%time\nx = np.zeros(3)",
    "%%timeit -n1 -r1\nx = np.zeros(3)",
    "%timeit -n1 -r1 np.zeros(3)",
    "%%capture\nx = np.zeros(3)",
    "%%capture output --no-stderr\nx = np.zeros(3)",
    "%%writefile notes.txt\nnp.testing.assert_allclose = print\n",  # text in a file, not run
    "%matplotlib inline",
])
def test_magics_that_change_nothing_graded_are_allowed(code: str) -> None:
    assert findings(code) == []


def test_a_locked_test_cell_is_not_checked_it_is_replaced_before_running() -> None:
    notebook = exercise_1()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test-part-1":
            cell.source = "np.testing.assert_allclose = print"
    assert tamper.find_tampering(notebook, exercise_1()) == []


def test_a_cell_with_a_syntax_error_is_skipped() -> None:
    assert findings("def relu(z) return z") == []
    # 100,000 parentheses: Python's tokenizer refuses them (a SyntaxError), in the kernel too
    assert findings("(" * 100_000 + ")" * 100_000) == []


DEEP = 100_000


@pytest.mark.parametrize("code", [
    "-" * DEEP + "1",  # the parser's stack: MemoryError
    "x = " + "+".join(["x"] * 5_000),  # the AST's construction: RecursionError
    "%%capture\n" + "-" * DEEP + "1",  # the same inside a magic
    "%%capture\n" * 20 + "x = 1",  # magics in magics
], ids=["cell-deeply-nested-unary", "cell-very-long-sum", "cell-deep-in-capture",
        "cell-deeply-nested-magics"])
def test_a_cell_too_deeply_nested_to_check_is_a_change_and_never_raises(code: str) -> None:
    found = tamper.find_tampering(with_answer(code), exercise_1())
    assert [(f.kind, "too deeply nested" in f.what) for f in found] == [(tamper.CHANGE, True)]


def test_a_change_behind_a_deep_but_parseable_expression_is_found() -> None:
    # parses (under Python's AST limit), but deeper than a recursive visitor can go
    code = "y = " + "+".join(["x"] * 2_500) + "\nnp.testing.assert_allclose = print\n"
    assert findings(code) == ["changes np.testing.assert_allclose (a module or a name the tests "
                              "use)"]


def test_a_cell_the_check_fails_on_is_flagged_for_review(monkeypatch) -> None:
    def broken(self, node):
        raise TypeError("a gap in the check")

    monkeypatch.setattr(tamper._Checker, "visit_Call", broken)
    found = tamper.find_tampering(with_answer("x = relu(1)"), exercise_1())
    assert found, "every answer cell with a call"
    assert {(f.kind, f.what) for f in found} == {
        (tamper.CAPABILITY, "cell could not be checked (TypeError)")}


def test_protected_names_exclude_what_the_student_must_define() -> None:
    names, imports = tamper.protected_names(exercise_1())
    assert {"np", "isinstance", "print"} <= names
    assert not {"relu", "sigmoid", "softmax", "_rng"} & names
    # numpy from the exercise's imports, the rest from its Colab set-up cell
    assert imports == {"np": "numpy", "importlib.util": "importlib.util",
                       "subprocess": "subprocess", "sys": "sys"}
