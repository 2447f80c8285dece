"""Static check of a submission's code for tampering with the tests (instructors).

Hidden tests call ``np.testing.assert_allclose``, ``isinstance``, ``np`` ... — names that an
answer cell could rebind (``np.testing.assert_allclose = lambda *a, **k: None``) to pass every
test. Before a submission runs, :func:`find_tampering` parses each code cell the student can
edit (IPython syntax included) and reports findings of two kinds.

**Changes** (:data:`CHANGE`) to what the tests rely on, which correct code never makes. A
submission with one is not run and scores 0 (status "tampering", the lines in the reason; the
instructor can override with a manual grade):

- a module-level rebinding of a name the tests rely on: a builtin, a module the assignment
  imports (``import numpy as np`` again is fine), or any other name the test cells read but do
  not define themselves (the functions the student is asked to write are, of course, allowed);
  also through ``global`` in a function, and the names ``%timeit -v`` and ``%%capture`` bind;
- an attribute or item assignment (or ``del``) on a module, on one of those names, or on the
  kernel's shell (``np.testing.x = ...``, ``sys.modules[...] = ...``, ``isinstance.__x__ = ...``,
  ``get_ipython().x = ...``), also through an alias (``t = np.testing``, ``m = sys.modules[...]``,
  ``t = getattr(np, "testing")``, ``ip = get_ipython()``), except the settings in
  :data:`SETTINGS` (``os.environ``, ``plt.rcParams``, ``torch.backends``: a capability);
- ``setattr``/``delattr`` on any of those;
- writes to a namespace: ``globals()[...] = ...``, ``del globals()[...]``,
  ``globals().update(...)`` (and ``setdefault``, ``pop``, ``clear``, ...), the same through
  ``vars()``/``locals()`` at module level, ``vars(np)``, ``np.__dict__``, ``f.__globals__``,
  ``frame.f_globals``, ``__builtins__``, ``sys.modules`` or a name bound to one of them;
- hooks added to the kernel's shell: ``get_ipython().input_transformers_cleanup.append(...)``,
  ``get_ipython().events.register(...)``, ``set_hook``, ``register_magic_function``, ``push``,
  ... (they run code before, or instead of, the tests);
- a cell too deeply nested (or too large) to check: ``ast.parse`` (or IPython's transformer)
  fails with RecursionError or MemoryError. Python's own compiler usually fails on such a cell
  in the kernel too, so nothing in it runs; but not always (the depth the parser accepts grows
  with ``sys.setrecursionlimit()``, which an earlier cell may call), no correct answer nests a
  thousand levels deep, and what cannot be read cannot be cleared, so the check fails closed.
  A cell with an ordinary syntax error is skipped instead: it fails the same way in the kernel
  and nothing in it runs (an unfinished answer must not cost the others their points).

**Capabilities** (:data:`CAPABILITY`) that correct code may use harmlessly but an attack could
use to make a change the rules above cannot see. They never zero: the submission is graded
normally, its automatic score kept, and flagged for the instructor's review (status "review",
the lines in the reason):

- calls of ``exec``, ``eval``, ``compile``, ``__import__``, ``breakpoint``;
- ``get_ipython()`` other than for the magics in :data:`ALLOWED_MAGICS` (``%run``, ``%pip``,
  ``!cmd``, ``%load_ext``, ...);
- ``setattr``/``delattr`` on an object the check cannot trace to a module or protected name
  (``setattr(self, name, value)`` in a class is common and harmless);
- ``globals()``, ``vars()``, ``locals()`` used other than read-only (passed on, bound to a name,
  iterated); read-only uses are not findings at all: ``"x" in globals()``, ``globals().get("x")``,
  ``globals()["x"]``, ``.keys()``/``.values()``/``.items()``/``.copy()``;
- introspection attributes (``__dict__``, ``__globals__``, ``__code__``, ``f_globals``, ...),
  ``sys._getframe``, ``sys.modules``, ``sys.settrace`` and the like, ``__builtins__``, and
  ``getattr`` with a computed or special attribute name;
- writes to the settings in :data:`SETTINGS` (``os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"``);
- imports of ``builtins``, ``importlib``, ``ctypes``, ``gc``, ``inspect``, ``IPython`` (but
  ``IPython.display``), ``unittest.mock``, ``pickle`` and the others in
  :data:`FORBIDDEN_MODULES`;
- a cell the check fails on for any other reason (a gap of this check, not of the student).

Magics that change nothing graded are not findings; the code they run is checked like any other:
``%time``/``%%time``, ``%timeit``/``%%timeit`` (the statement after the options, and the cell),
``%%capture`` (its cell; the name it binds is checked like an assignment), ``%matplotlib``, and
``%%writefile``. ``%%writefile`` writes its text to a file in the kernel's scratch folder and runs
nothing: it does no more than ``open(path, "w").write(text)``, which the check does not flag
either. Running such a file takes ``%run`` or ``exec`` (flagged), or an import, which the
sandboxed kernel (``python -I``, IPython's ``ignore_cwd``) does not make from its working folder
unless ``sys.path`` is changed first: the same gap, with or without the magic.

The check is a deny-list: it is meant to stop the easy tricks, not a determined attacker (that
is what the sandbox's limits and the review flag are for). It never raises on a submission's
code: a cell that breaks it is a finding, so one submission cannot stop a grading run.
"""

from __future__ import annotations

import ast
import builtins
import functools
from dataclasses import dataclass

import nbformat

__all__ = ["ALLOWED_MAGICS", "CAPABILITY", "CHANGE", "FORBIDDEN_MODULES", "Finding",
           "find_tampering", "protected_names"]

CHANGE = "change"  # changes what the tests rely on: zeroes the submission
CAPABILITY = "capability"  # could be used to tamper, often harmless: flags it for review

CAPABILITY_CALLS = {"exec", "eval", "compile", "__import__", "breakpoint"}
NAMESPACE_CALLS = {"globals", "vars", "locals"}
FORBIDDEN_MODULES = {"builtins", "importlib", "ctypes", "gc", "inspect", "IPython", "ipykernel",
                     "unittest", "mock", "pickle", "marshal", "dill", "cloudpickle", "runpy",
                     "code", "codeop", "_thread"}
INTROSPECTION_ATTRS = {"__dict__", "__globals__", "__builtins__", "__code__", "__closure__",
                       "__subclasses__", "__bases__", "__mro__", "__setattr__", "__delattr__",
                       "__getattribute__", "__import__", "__loader__", "__spec__", "f_globals",
                       "f_locals", "f_builtins", "f_back", "tb_frame", "gi_frame", "cr_frame"}
NAMESPACE_ATTRS = {"__globals__", "__builtins__", "f_globals", "f_builtins"}  # always global
SYS_ATTRS = {"modules", "_getframe", "settrace", "setprofile", "meta_path", "path_hooks",
             "path_importer_cache", "addaudithook", "displayhook", "excepthook", "__stdout__",
             "__stderr__"}
READERS = {"get", "keys", "values", "items", "copy", "__contains__", "__getitem__"}
MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__",
            "append", "extend", "insert", "remove", "register", "unregister", "add", "discard"}
SHELL_HOOKS = {"set_hook", "register_magic_function", "register_magics", "push", "del_var",
               "reset", "reset_selective", "set_custom_exc", "define_macro", "drop_by_id"}
ALLOWED_IMPORTS = ("IPython.display",)
# module attributes that are settings, which correct code changes (`os.environ[...] = ...`,
# `plt.rcParams[...] = ...`): a write to them is a capability, not a change
SETTINGS = ("os.environ", "matplotlib.rcParams", "matplotlib.pyplot.rcParams", "torch.backends")
# magics that change nothing graded (the code they run is checked; see the module's docstring)
ALLOWED_MAGICS = {"time", "timeit", "capture", "matplotlib", "writefile"}
MAX_MAGIC_NESTING = 8  # %%capture in %%capture in ...: deeper is unreadable


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: cell index in the submission, line in the cell, what, and its
    kind: :data:`CHANGE` (zeroes the submission) or :data:`CAPABILITY` (flags it for review)."""

    cell: int
    line: int
    what: str
    kind: str = CHANGE

    @property
    def zeroes(self) -> bool:
        """Whether this finding alone scores the submission 0 (a change, not a capability)."""
        return self.kind == CHANGE

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.what}"


class _Unreadable(Exception):
    """A cell this check cannot read: nested too deeply or too large (a change-kind finding)."""


def _grading_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _parse(source: str) -> ast.Module | None:
    """The cell's code as Python (IPython syntax transformed); None for a syntax error (it fails
    at run time too, and nothing in it runs); :class:`_Unreadable` when Python's limits stop it."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None
    except (RecursionError, MemoryError) as error:
        raise _Unreadable(type(error).__name__) from None


def _text(node: ast.AST) -> str:
    """Source text of ``node`` for a message, short, whatever its depth."""
    try:
        text = ast.unparse(node)
    except (RecursionError, MemoryError, ValueError):
        text = "..."
    return text if len(text) <= 80 else text[:77] + "..."


def _bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def protected_names(source: nbformat.NotebookNode) -> tuple[set[str], dict[str, str]]:
    """Names the tests rely on, and the imports the assignment itself makes (alias -> module)."""
    loaded, test_bound, answer_bound, imports = set(), set(), set(), {}
    for cell in source.cells:
        try:
            tree = _parse(cell.source) if cell.cell_type == "code" else None
        except _Unreadable:
            tree = None  # the assignment's own cell: it cannot run either
        if tree is None:
            continue
        meta = _grading_meta(cell)
        if meta.get("solution"):
            answer_bound |= _bound_names(tree)
            continue
        if meta.get("grade"):
            loaded |= {n.id for n in ast.walk(tree)
                       if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            test_bound |= _bound_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports.update({a.asname or a.name: a.name for a in node.names})
            elif isinstance(node, ast.ImportFrom):
                imports.update({a.asname or a.name: f"{node.module}.{a.name}"
                                for a in node.names})
    names = (set(dir(builtins)) | loaded | set(imports)) - answer_bound - test_bound
    return names, imports


def _called(node: ast.AST, *names: str) -> bool:
    """Whether ``node`` is a call of the plain name ``names`` (``globals()``, ...)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id in names


class _Checker(ast.NodeVisitor):
    """Visits a cell's tree without recursion (a deeply nested expression cannot exhaust
    Python's stack), collecting (line, what, kind)."""

    def __init__(self, protected: set[str], imports: dict[str, str]) -> None:
        self.protected, self.imports = protected, imports
        self.modules = set(imports) | {"sys", "os", "builtins", "__builtins__"}
        self.namespaces: set[str] = set()  # names bound to globals(), np.__dict__, ...
        self.shells: set[str] = set()  # names bound to get_ipython()
        self.findings: list[tuple[int, str, str]] = []
        self.depth = 0  # inside a function: plain names are local unless declared global
        self.globals: set[str] = set()
        self.allowed: set[int] = set()  # the get_ipython() calls of allowed magics
        self.parents: dict[int, ast.AST] = {}
        self._todo: list[ast.AST | object] = []

    def flag(self, node: ast.AST, what: str, kind: str = CHANGE) -> None:
        self.findings.append((getattr(node, "lineno", 0), what, kind))

    # --- traversal ------------------------------------------------------------------------

    def check(self, tree: ast.Module, allowed: set[int]) -> None:
        """Check one parsed cell (or one magic's code)."""
        self.allowed = allowed
        self.parents = {id(child): parent for parent in ast.walk(tree)
                        for child in ast.iter_child_nodes(parent)}
        self.visit(tree)

    def visit(self, node: ast.AST) -> None:
        outer, self._todo = self._todo, [node]
        try:
            while self._todo:
                item = self._todo.pop()
                if isinstance(item, ast.AST):
                    getattr(self, "visit_" + type(item).__name__, self.generic_visit)(item)
                else:
                    self.depth -= 1  # the end of a function's body
        finally:
            self._todo = outer

    def generic_visit(self, node: ast.AST) -> None:
        self._todo.extend(reversed(list(ast.iter_child_nodes(node))))

    # --- what an expression is --------------------------------------------------------------

    def _root(self, node: ast.AST) -> str | None:
        while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.Starred):
            if _called(node, "getattr") and node.args:
                node = node.args[0]  # getattr(np, "testing") is np.testing
            else:
                node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def _shell(self, node: ast.AST) -> bool:
        """``get_ipython()`` (also ``IPython.get_ipython()``) or a name bound to it."""
        if isinstance(node, ast.Name):
            return node.id in self.shells
        return isinstance(node, ast.Call) and (
            _called(node, "get_ipython")
            or isinstance(node.func, ast.Attribute) and node.func.attr == "get_ipython")

    def _in_shell(self, node: ast.AST) -> bool:
        """Whether ``node`` is the shell or reached from it (``get_ipython().events``)."""
        while True:
            if self._shell(node):
                return True
            if isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
                node = node.value
            elif isinstance(node, ast.Call):
                node = node.func
            else:
                return False

    def _traced(self, node: ast.AST) -> bool:
        """Whether ``node`` is (part of) a module, a protected name or the shell."""
        root = self._root(node)
        return root in self.modules or root in self.protected or self._in_shell(node)

    def _namespace(self, node: ast.AST) -> bool:
        """Whether ``node`` is a global namespace: writing to it rebinds global names."""
        if isinstance(node, ast.Name):
            return node.id in self.namespaces or node.id == "__builtins__"
        if _called(node, "globals"):
            return True
        if _called(node, "vars", "locals"):
            return self.depth == 0 if not node.args else self._traced(node.args[0])
        if isinstance(node, ast.Attribute):
            return node.attr in NAMESPACE_ATTRS or (
                node.attr == "__dict__" and self._traced(node.value)) or (
                node.attr == "modules" and self._root(node.value) == "sys")
        return False

    def _setting(self, node: ast.AST) -> bool:
        """Whether ``node`` is (in) one of the :data:`SETTINGS`, reached by its module's name."""
        names = []
        while isinstance(node, ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Attribute):
                names.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return False
        dotted = ".".join([self.imports.get(node.id, node.id), *reversed(names)])
        return any(dotted == s or dotted.startswith(s + ".") for s in SETTINGS)

    def _module_alias(self, value: ast.AST) -> bool:
        """Whether binding ``value`` to a name makes that name another way to a module."""
        if isinstance(value, ast.Name | ast.Attribute) or _called(value, "getattr"):
            return self._root(value) in self.modules
        if isinstance(value, ast.Subscript):  # `m = sys.modules["numpy"]`
            return self._namespace(value.value)
        return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr in ("get", "setdefault", "pop") \
            and self._namespace(value.func.value)  # `m = globals().get("np")`

    # --- bindings and stores ----------------------------------------------------------------

    def _store(self, target: ast.AST, node: ast.AST) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._store(element, node)
        elif isinstance(target, ast.Starred):
            self._store(target.value, node)
        elif isinstance(target, ast.Name):
            self._bind(target.id, node)
        elif isinstance(target, ast.Attribute | ast.Subscript):
            if self._namespace(target.value):
                self.flag(node, f"writes to the namespace {_text(target.value)} "
                                f"({_text(target)})")
            elif self._in_shell(target):
                self.flag(node, f"changes {_text(target)} (the kernel's shell)")
            elif self._setting(target):
                self.flag(node, f"changes the setting {_text(target)}", CAPABILITY)
            elif self._traced(target):
                self.flag(node, f"changes {_text(target)} (a module or a name the tests use)")

    def _bind(self, name: str, node: ast.AST) -> None:
        if (self.depth == 0 or name in self.globals) and name in self.protected:
            self.flag(node, f"rebinds {name!r}, which the tests use")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._store(target, node)
            if isinstance(target, ast.Name):
                if self._module_alias(node.value):
                    self.modules.add(target.id)  # an alias of a module: `t = np.testing`
                if self._namespace(node.value):
                    self.namespaces.add(target.id)  # `g = globals()`
                if self._shell(node.value):
                    self.shells.add(target.id)  # `ip = get_ipython()`
        self.generic_visit(node)

    def _visit_single_target(
        self, node: ast.AugAssign | ast.AnnAssign | ast.NamedExpr | ast.For
    ) -> None:
        self._store(node.target, node)
        self.generic_visit(node)

    # `x += ...`, `x: T = ...`, `(x := ...)` and `for x in ...` all bind one target
    visit_AugAssign = visit_AnnAssign = visit_NamedExpr = visit_For = _visit_single_target

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._store(target, node)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._store(item.optional_vars, node)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.globals.update(node.names)

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        if not isinstance(node, ast.Lambda):
            self._bind(node.name, node)
        self.depth += 1
        self._todo.append(_END_OF_SCOPE)  # popped after the body: depth goes back down
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scope

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._bind(node.name, node)
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom, module: str, alias: ast.alias) -> None:
        full = f"{module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
        if (full.split(".")[0] in FORBIDDEN_MODULES or full.startswith("unittest.mock")) \
                and not full.startswith(ALLOWED_IMPORTS):
            self.flag(node, f"imports {full}", CAPABILITY)
        name = alias.asname or alias.name.split(".")[0]
        # what `name` is bound to: `import a.b` binds a; `import a.b as c`, `from a import b` a.b
        bound = full if alias.asname or isinstance(node, ast.ImportFrom) else name
        if self.imports.get(name) != bound:  # importing what the assignment imports is fine
            self._bind(name, node)
        self.modules.add(name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, "", alias)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self._import(node, node.module or "", alias)

    # --- calls and attributes ---------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in CAPABILITY_CALLS:
            self.flag(node, f"calls {func.id}()", CAPABILITY)
        elif isinstance(func, ast.Name) and func.id in ("setattr", "delattr"):
            if node.args and (self._traced(node.args[0]) or self._namespace(node.args[0])):
                self.flag(node, f"calls {func.id}() on {_text(node.args[0])}")
            else:
                self.flag(node, f"calls {func.id}() on an object the check cannot trace",
                          CAPABILITY)
        elif isinstance(func, ast.Name) and func.id in NAMESPACE_CALLS:
            self._namespace_use(node)
        elif isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) > 1 and not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                and not node.args[1].value.startswith("__")):
            self.flag(node, "calls getattr() with a computed or special attribute name",
                      CAPABILITY)
        elif self._shell(node) and id(node) not in self.allowed:
            self._shell_use(node)
        elif isinstance(func, ast.Attribute):
            if func.attr in MUTATORS and self._namespace(func.value):
                self.flag(node, f"writes to the namespace {_text(func.value)} (.{func.attr})")
            elif func.attr in MUTATORS and self._in_shell(func.value) \
                    and not self._shell(func.value):
                self.flag(node, f"changes {_text(func.value)} (the kernel's shell: "
                                f".{func.attr})")
            elif func.attr in SHELL_HOOKS and self._shell(func.value):
                self.flag(node, f"changes the kernel's shell (.{func.attr})")
        self.generic_visit(node)

    def _namespace_use(self, node: ast.Call) -> None:
        """``globals()``, ``vars()``, ``locals()``: reading is fine, writing is a change (found
        where it is written), anything else a capability."""
        parent = self.parents.get(id(node))
        grandparent = self.parents.get(id(parent)) if parent is not None else None
        read = (isinstance(parent, ast.Compare) and any(
                    isinstance(op, ast.In | ast.NotIn) and comparator is node
                    for op, comparator in zip(parent.ops, parent.comparators, strict=True))
                or isinstance(parent, ast.Subscript) and parent.value is node
                and isinstance(parent.ctx, ast.Load)
                or isinstance(parent, ast.Attribute) and parent.attr in READERS
                and isinstance(grandparent, ast.Call) and grandparent.func is parent)
        written = self._namespace(node) and (
            isinstance(parent, ast.Subscript) and not isinstance(parent.ctx, ast.Load)
            or isinstance(parent, ast.Attribute) and parent.attr in MUTATORS
            and isinstance(grandparent, ast.Call) and grandparent.func is parent)
        if not (read or written):
            self.flag(node, f"calls {node.func.id}()", CAPABILITY)

    def _shell_use(self, node: ast.Call) -> None:
        """``get_ipython()`` outside an allowed magic: what it is used for, as a capability."""
        parent = self.parents.get(id(node))
        detail = ""
        if isinstance(parent, ast.Attribute):
            call = self.parents.get(id(parent))
            detail = parent.attr
            if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant):
                name = call.args[0].value
                detail = {"run_line_magic": f"%{name}", "run_cell_magic": f"%%{name}",
                          "system": f"!{name}", "getoutput": f"!{name}"}.get(parent.attr, detail)
            detail = f" ({str(detail)[:60]})"
        self.flag(node, f"calls get_ipython(){detail}", CAPABILITY)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in INTROSPECTION_ATTRS:
            self.flag(node, f"uses .{node.attr}", CAPABILITY)
        elif node.attr in SYS_ATTRS and self._root(node.value) == "sys":
            self.flag(node, f"uses sys.{node.attr}", CAPABILITY)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in {"__builtins__", "__builtin__"}:
            self.flag(node, f"uses {node.id}", CAPABILITY)


_END_OF_SCOPE = object()  # marks, on the checker's stack, where a function's body ends


def _allowed_magic(node: ast.AST) -> bool:
    """``get_ipython().run_line_magic('time', '...')`` or ``run_cell_magic`` of an allowed magic,
    every argument a string constant (as IPython's transformer writes it)."""
    if not isinstance(node, ast.Call) or node.keywords:
        return False
    func = node.func
    arguments = {"run_line_magic": 2, "run_cell_magic": 3}
    return (isinstance(func, ast.Attribute) and len(node.args) == arguments.get(func.attr)
            and _called(func.value, "get_ipython") and not func.value.args
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
            and node.args[0].value in ALLOWED_MAGICS)


@functools.cache
def _execution_magics():  # IPython's own parsers of %time, %timeit and %%capture, made once
    from IPython.core.magics.execution import ExecutionMagics

    return ExecutionMagics(shell=None)


def _magic_code(call: ast.Call) -> tuple[list[str], list[str]]:
    """The code an allowed magic runs and the names it binds, its arguments parsed as IPython
    parses them (an argument IPython refuses stops the magic in the kernel too)."""
    from IPython.core import magic_arguments

    name, line = call.args[0].value, call.args[1].value
    cell = call.args[2].value if len(call.args) > 2 else None
    magics = _execution_magics()
    try:
        if name == "time":
            _, extra = magic_arguments.parse_argstring(magics.time, line, partial=True)
            return [cell if cell is not None else " ".join(extra)], []
        if name == "timeit":
            options, statement = magics.parse_options(line, "n:r:tcp:qov:", posix=False,
                                                      strict=False, preserve_non_opts=True)
            return [statement] + ([cell] if cell is not None else []), \
                [options.v] if "v" in options else []
        if name == "capture":
            output = magic_arguments.parse_argstring(magics.capture, line).output
            return [cell or ""], [output] if output else []
    except Exception:  # noqa: BLE001 - IPython's UsageError and the like: the magic fails
        return [], []
    return [], []  # %matplotlib, %%writefile: no code


def _check_code(source: str, checker: _Checker, nesting: int = 0) -> None:
    if nesting > MAX_MAGIC_NESTING:
        raise _Unreadable("magics nested too deeply")
    tree = _parse(source)
    if tree is None:
        return
    magics = [node for node in ast.walk(tree) if _allowed_magic(node)]
    checker.check(tree, {id(call.func.value) for call in magics})
    for call in magics:
        code, names = _magic_code(call)
        for name in names:
            checker._bind(name, call)  # `%%capture np` rebinds np
        for text in code:
            _check_code(text, checker, nesting + 1)


def find_tampering(notebook: nbformat.NotebookNode,
                   source: nbformat.NotebookNode) -> list[Finding]:
    """Everything suspicious in the code cells of ``notebook`` that the student could edit.

    Never raises on the submission's code: a cell this check cannot read is a change-kind
    finding, a cell it fails on otherwise a capability-kind one (see the module's docstring).
    """
    protected, imports = protected_names(source)
    locked = {_grading_meta(c)["grade_id"] for c in source.cells
              if _grading_meta(c).get("grade_id")
              and (_grading_meta(c).get("locked") or (_grading_meta(c).get("grade")
                                                      and not _grading_meta(c).get("solution")))}
    findings = []
    checker = _Checker(protected, imports)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or _grading_meta(cell).get("grade_id") in locked:
            continue  # locked cells are replaced by the assignment's own before running
        checker.findings, checker.depth = [], 0
        try:
            _check_code(cell.source, checker)
        except (_Unreadable, RecursionError, MemoryError) as error:
            checker.findings.append((0, f"cell too deeply nested or too large to check "
                                        f"({error})", CHANGE))
        except Exception as error:  # noqa: BLE001 - a gap of this check: a person looks
            checker.findings.append((0, f"cell could not be checked ({type(error).__name__})",
                                     CAPABILITY))
        findings += [Finding(index, line, what, kind) for line, what, kind in checker.findings]
    return findings
