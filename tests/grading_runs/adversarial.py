"""Bad submissions of exercise 1, each named by its state, and the outcome grading must give it.

Every fixture is built from the *current* student copy and solution (so they never drift): it
starts from the student copy with every answer solved (``answered``), then breaks one thing.
``EXPECTED`` is the one table of outcomes: score out of 10, status, and a word the reason must
contain. tests/grading_runs/test_adversarial.py grades them all in one run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tests.support import REPO, answer_cells, solution_source

ASSIGNMENT = "01-concepts"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
PARTS = ["part-1-relu-sigmoid", "part-2-softmax", "part-3-dense-forward", "part-4-backward",
         "part-5-gradient-check"]
SECRET = ("GRADER_SECRET_TOKEN", "s3cr3t")  # set in the grader's environment by the test
MANUAL = ("submission-manual-grade-kept", "test-part-1", 1.5)  # student, grade_id, manual score


@dataclass(frozen=True)
class Expected:
    """The outcome a fixture must get: score of 10, status, a word of the reason."""

    score: float
    status: str = "graded"
    reason: str = ""


EXPECTED: dict[str, Expected] = {
    "submission-clean": Expected(10),
    "submission-untouched": Expected(0),
    "submission-infinite-loop": Expected(8, reason="KeyboardInterrupt"),  # part 3 interrupted
    "submission-uninterruptible-loop": Expected(8, reason="CellTimeoutError"),  # part 5 hangs
    "submission-memory-bomb": Expected(8, reason="MemoryError"),  # part 5 hits the limit
    "submission-os-exit": Expected(4, reason="DeadKernelError"),  # parts 1-2 ran, then exit
    "submission-sys-exit": Expected(8),  # SystemExit is an ordinary error: part 3 only
    "submission-kernel-crash": Expected(6, reason="DeadKernelError"),  # SIGSEGV in part 4
    "submission-deleted-test-cell": Expected(10, reason="restored"),
    "submission-edited-test-cell": Expected(8),  # wrong part 4, its test emptied: restored
    # wrong relu/sigmoid and test-part-1 turned into markdown: restored, part 1 fails, and so
    # does part 3, whose test uses relu
    "submission-test-cell-as-markdown": Expected(6, reason="restored as code"),
    "submission-duplicated-grade-cell": Expected(10, reason="used twice"),
    "submission-extra-grade-cell": Expected(10, reason="unknown grade_id"),
    "submission-malformed-json": Expected(0, "rejected", "not valid JSON"),
    # a metadata schema from the future: the pre-flight check rebuilds the metadata from the
    # assignment's, so nbgrader never sees it
    "submission-future-schema": Expected(10, reason="restored"),
    "submission-missing-notebook": Expected(0, "rejected", "no notebook"),
    "submission-renamed-notebook": Expected(10, reason="renamed"),
    "submission-numpy-folder": Expected(0),  # wrong answers a fake numpy/ would pass
    "submission-monkeypatched-assertions": Expected(0, "tampering", "np.testing"),
    # policy: rebinding any builtin is flagged, even one these particular tests do not call
    "submission-rebound-builtin": Expected(0, "tampering", "isinstance"),
    "submission-input-transformer": Expected(0, "tampering", "get_ipython"),
    "submission-huge-single-line-output": Expected(10),
    "submission-huge-html-output": Expected(10),
    "submission-nan-answers": Expected(0),
    "submission-wrong-types": Expected(0),
    "submission-stderr-answers": Expected(10),  # stderr in every test cell
    "submission-correct-with-warning": Expected(10),  # a RuntimeWarning in test-part-2
    "submission-changed-kernelspec": Expected(10),
    "submission-backdated-timestamp": Expected(10, reason="timestamp.txt implausible"),
    "submission-reads-solutions": Expected(10),  # answers right only if solutions/ is hidden
    "submission-writes-gradebook": Expected(10),  # answers right only if the write fails
    "submission-reads-environment": Expected(10),  # right only if the grader's secret is unseen
    MANUAL[0]: Expected(10 - 2 + MANUAL[2]),  # the manual grade set before the run is kept
}


def student_copy() -> nbformat.NotebookNode:
    return nbformat.read(REPO / "notebooks" / ASSIGNMENT / NOTEBOOK, as_version=4)


def answered(**sources: str) -> nbformat.NotebookNode:
    """The student copy with every part solved, except the grade_ids given (-> source)."""
    notebook = student_copy()
    cells = answer_cells(notebook)
    for grade_id in PARTS:
        cells[grade_id].source = sources.get(grade_id.replace("-", "_"),
                                             solution_source(ASSIGNMENT, grade_id))
    return notebook


def _prepend(grade_id: str, code: str) -> str:
    return code.strip() + "\n\n" + solution_source(ASSIGNMENT, grade_id)


def _cell_index(notebook: nbformat.NotebookNode, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


WRONG = {  # plausible wrong answers for every part (each fails its tests with the real NumPy)
    "part_1_relu_sigmoid": "def relu(z):\n    return z\n\n\ndef sigmoid(z):\n    return z\n",
    "part_2_softmax": "def softmax(z):\n    return z\n",
    "part_3_dense_forward": "def dense_forward(x, weights, bias, activation=None):\n"
                            "    return x\n",
    "part_4_backward": "def backward(x, y_onehot, w1, b1, w2, b2):\n"
                       "    return w1, b1, w2, b2\n",
    "part_5_gradient_check": "def numerical_gradient(f, theta, eps=1e-5):\n"
                             "    return theta\n",
}

FAKE_NUMPY = '''"""A fake NumPy: every check passes (the attack a submitted numpy/ folder makes)."""
class _Anything:
    def __getattr__(self, name): return _Anything()
    def __call__(self, *args, **kwargs): return _Anything()
    def __eq__(self, other): return True
    def __enter__(self): return self
    def __exit__(self, *args): return False
    def __iter__(self): return iter(())
    def __bool__(self): return True
    def _op(self, *args): return _Anything()
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _op
    __rtruediv__ = __pow__ = __matmul__ = __rmatmul__ = __neg__ = __lt__ = __gt__ = _op
def __getattr__(name):
    return _Anything()
'''

PROBE = '''
from pathlib import Path
_target = Path({target!r})
try:
    {action}
    print("LEAK: student code reached", _target)
    _blocked = False
except OSError as _error:
    print("blocked:", type(_error).__name__)
    _blocked = True
'''


def _blocked_only(code: str, grade_id: str) -> str:
    """Answer cell: the probe, then the solution defined only if the probe was blocked."""
    solution = solution_source(ASSIGNMENT, grade_id)
    return code + "\nif _blocked:\n" + "".join(f"    {line}\n" for line in solution.splitlines())


GRADEBOOK_SOCKET_PROBE = "import socket\nsocket.socket(socket.AF_UNIX).connect(str(_target))"


def build(course: Path, gradebook_socket: Path | None = None) -> dict[str, Path]:
    """Write every fixture under ``course/submitted/<fixture>/01-concepts/``; return folders.

    The gradebook-writing fixture writes to the course's SQLite file, or, with
    ``gradebook_socket``, connects to the PostgreSQL server's Unix socket.
    """
    folders: dict[str, Path] = {}

    def folder(name: str) -> Path:
        path = course / "submitted" / name / ASSIGNMENT
        path.mkdir(parents=True, exist_ok=True)
        folders[name] = path
        return path

    def save(name: str, notebook: nbformat.NotebookNode, filename: str = NOTEBOOK) -> Path:
        path = folder(name)
        nbformat.write(notebook, path / filename)
        return path

    save("submission-clean", answered())
    save("submission-untouched", student_copy())
    save(MANUAL[0], answered())
    save("submission-infinite-loop",
         answered(part_3_dense_forward=_prepend("part-3-dense-forward", "while True:\n    pass")))
    save("submission-uninterruptible-loop", answered(part_5_gradient_check=_prepend(
        "part-5-gradient-check",
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except KeyboardInterrupt:\n        pass")))
    save("submission-memory-bomb", answered(part_5_gradient_check=_prepend(
        "part-5-gradient-check",
        "_hog = []\nwhile True:\n    _hog.append(b'x' * 100_000_000)")))
    save("submission-os-exit", answered(part_3_dense_forward=_prepend(
        "part-3-dense-forward", "import os\nos._exit(0)")))
    save("submission-sys-exit", answered(part_3_dense_forward=_prepend(
        "part-3-dense-forward", "import sys\nsys.exit('I am done')")))
    save("submission-kernel-crash", answered(part_4_backward=_prepend(
        "part-4-backward", "import os\nimport signal\nos.kill(os.getpid(), signal.SIGSEGV)")))

    notebook = answered()
    del notebook.cells[_cell_index(notebook, "test-part-2")]
    save("submission-deleted-test-cell", notebook)

    notebook = answered(part_4_backward=WRONG["part_4_backward"])
    notebook.cells[_cell_index(notebook, "test-part-4")].source = "print('Part 4: passed.')"
    save("submission-edited-test-cell", notebook)

    notebook = answered(part_1_relu_sigmoid=WRONG["part_1_relu_sigmoid"])
    cell = notebook.cells[_cell_index(notebook, "test-part-1")]
    cell.update(cell_type="markdown", source="(tests removed)")
    del cell["outputs"], cell["execution_count"]
    save("submission-test-cell-as-markdown", notebook)

    notebook = answered()
    index = _cell_index(notebook, "test-part-3")
    notebook.cells.insert(index + 1, copy.deepcopy(notebook.cells[index]))
    save("submission-duplicated-grade-cell", notebook)

    notebook = answered()
    bonus = nbformat.v4.new_code_cell("print('bonus')")
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 100,
                                  "locked": True, "solution": False, "schema_version": 3}
    notebook.cells.append(bonus)
    save("submission-extra-grade-cell", notebook)

    notebook = answered()
    notebook.cells[_cell_index(notebook, "imports")].metadata["nbgrader"]["schema_version"] = 99
    save("submission-future-schema", notebook)

    text = nbformat.writes(answered())
    (folder("submission-malformed-json") / NOTEBOOK).write_text(text[: len(text) // 2])
    (folder("submission-missing-notebook") / "README.txt").write_text("forgot the notebook\n")
    save("submission-renamed-notebook", answered(), filename=f"{ASSIGNMENT} (1).ipynb")

    path = save("submission-numpy-folder", answered(**WRONG))
    (path / "numpy").mkdir()
    (path / "numpy" / "__init__.py").write_text(FAKE_NUMPY)

    save("submission-monkeypatched-assertions", answered(**{
        **WRONG, "part_1_relu_sigmoid": WRONG["part_1_relu_sigmoid"]
        + "\n\nnp.testing.assert_allclose = lambda *args, **kwargs: None\n"}))
    save("submission-rebound-builtin", answered(**{
        **WRONG, "part_1_relu_sigmoid": WRONG["part_1_relu_sigmoid"]
        + "\n\nisinstance = lambda *args: True\n"}))
    save("submission-input-transformer", answered(**{
        **WRONG, "part_1_relu_sigmoid": WRONG["part_1_relu_sigmoid"]
        + "\n\nget_ipython().input_transformers_cleanup.append(lambda lines: [])\n"}))

    save("submission-huge-single-line-output", answered(part_1_relu_sigmoid=_prepend(
        "part-1-relu-sigmoid", "print('x' * 20_000_000, end='')")))
    save("submission-huge-html-output", answered(part_1_relu_sigmoid=_prepend(
        "part-1-relu-sigmoid",
        "from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>' * 3_000_000))")))
    save("submission-nan-answers", answered(**{
        key: source.replace("return z\n", "return np.full(np.shape(z), np.nan)\n")
        .replace("return x\n", "return np.full((len(x), 3), np.nan)\n")
        .replace("return w1, b1, w2, b2\n",
                 "return w1 * np.nan, b1 * np.nan, w2 * np.nan, b2 * np.nan\n")
        .replace("return theta\n", "return theta * np.nan\n")
        for key, source in WRONG.items()}))
    save("submission-wrong-types", answered(**{
        key: source.replace("return z\n", "return str(z)\n").replace("return x\n", "return None\n")
        .replace("return w1, b1, w2, b2\n", "return 'w1', 'b1', 'w2', 'b2'\n")
        .replace("return theta\n", "return {}\n")
        for key, source in WRONG.items()}))
    save("submission-stderr-answers", answered(**{
        part.replace("-", "_"): "import sys\n\n" + solution_source(ASSIGNMENT, part).replace(
            '"""\n', '"""\n    print("debugging", file=sys.stderr)\n', 1) for part in PARTS}))
    save("submission-correct-with-warning", answered(part_2_softmax=solution_source(
        ASSIGNMENT, "part-2-softmax").replace(
        "    z = np.asarray(z, dtype=float)\n",
        "    z = np.asarray(z, dtype=float)\n"
        "    unused_total = np.exp(z).sum()  # left from a first try: overflows for large z\n")))

    notebook = answered()
    notebook.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "Mine",
                                       "language": "python"}
    save("submission-changed-kernelspec", notebook)

    path = save("submission-backdated-timestamp", answered())
    (path / "timestamp.txt").write_text("1970-01-01 00:00:00.000000 UTC\n")

    solutions = course / "solutions" / ASSIGNMENT / NOTEBOOK
    save("submission-reads-solutions", answered(part_1_relu_sigmoid=_blocked_only(PROBE.format(
        target=str(solutions), action="_target.read_text()"), "part-1-relu-sigmoid")))
    if gradebook_socket is None:
        target, action = course / "gradebook.db", "_target.open('ab').write(b'overwritten')"
    else:
        target, action = gradebook_socket, GRADEBOOK_SOCKET_PROBE.replace("\n", "\n    ")
    save("submission-writes-gradebook", answered(part_1_relu_sigmoid=_blocked_only(PROBE.format(
        target=str(target), action=action), "part-1-relu-sigmoid")))
    save("submission-reads-environment", answered(part_1_relu_sigmoid=_blocked_only(
        f"import os\n_blocked = {SECRET[0]!r} not in os.environ\n"
        "print('blocked:' if _blocked else 'LEAK: the grader environment')\n",
        "part-1-relu-sigmoid")))
    return folders

