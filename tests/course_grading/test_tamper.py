"""The static tampering check (course_grading.tamper): no false alarms on real answers, and each
trick of the adversarial fixtures is caught."""

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


@pytest.mark.parametrize(("code", "word"), [
    ("np.testing.assert_allclose = lambda *a, **k: None", "np.testing.assert_allclose"),
    ("t = np.testing\nt.assert_allclose = print", "t.assert_allclose"),
    ("np = None", "'np'"),
    ("isinstance = lambda *a: True", "'isinstance'"),
    ("def isinstance(*a):\n    return True", "'isinstance'"),
    ("import math as np", "'np'"),
    ("def f():\n    global np\n    np = 1", "'np'"),
    ("setattr(np.testing, 'assert_allclose', print)", "setattr"),
    ("exec('np.x = 1')", "exec"),
    ("globals()['np'] = None", "globals"),
    ("get_ipython().input_transformers_cleanup.append(lambda lines: [])", "get_ipython"),
    ("import builtins", "builtins"),
    ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
    ("f = relu.__globals__", "__globals__"),
    ("from unittest import mock", "unittest.mock"),
    ("%time np.testing.assert_allclose = print", "np.testing.assert_allclose"),
    ("%run other.py", "get_ipython"),
    ("getattr(np, '__dict__')", "getattr"),
])
def test_tampering_is_flagged(code: str, word: str) -> None:
    found = findings(code)
    assert any(word in what for what in found), found


def test_a_locked_test_cell_is_not_checked_it_is_replaced_before_running() -> None:
    notebook = exercise_1()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test-part-1":
            cell.source = "np.testing.assert_allclose = print"
    assert tamper.find_tampering(notebook, exercise_1()) == []


def test_a_cell_with_a_syntax_error_is_skipped() -> None:
    assert findings("def relu(z) return z") == []


def test_protected_names_exclude_what_the_student_must_define() -> None:
    names, imports = tamper.protected_names(exercise_1())
    assert {"np", "isinstance", "print"} <= names
    assert not {"relu", "sigmoid", "softmax", "_rng"} & names
    # numpy from the exercise's imports, the rest from its Colab set-up cell
    assert imports == {"np": "numpy", "importlib.util": "importlib.util",
                       "subprocess": "subprocess", "sys": "sys"}
