"""Static check of a submission's code for tampering with the tests (instructors).

Hidden tests call ``np.testing.assert_allclose``, ``isinstance``, ``np`` ... — names that an
answer cell could rebind (``np.testing.assert_allclose = lambda *a, **k: None``) to pass every
test. Before a submission runs, :func:`find_tampering` parses each code cell the student can
edit (IPython syntax included) and reports:

- a module-level rebinding of a name the tests rely on: a builtin, a module the assignment
  imports (``import numpy as np`` again is fine), or any other name the test cells read but do
  not define themselves (the functions the student is asked to write are, of course, allowed);
- an attribute or item assignment (or ``del``) on a module or on one of those names
  (``np.testing.x = ...``, ``sys.modules[...] = ...``, ``isinstance.__x__ = ...``);
- the ways around the two rules above: ``setattr``/``delattr``, ``exec``/``eval``/``compile``/
  ``__import__``, ``globals()``/``vars()``, ``get_ipython()`` (input transformers and events run
  code before the tests), introspection attributes (``__dict__``, ``__globals__``,
  ``f_globals``, ``sys._getframe``, ``sys.modules``, ``sys.settrace``), and imports of
  ``builtins``, ``importlib``, ``ctypes``, ``gc``, ``inspect``, ``IPython`` (but
  ``IPython.display``), ``unittest.mock``,
  ``pickle``.

A finding zeroes the submission without running it (the instructor can read the reason and
override with a manual grade). The check is a deny-list: it is meant to stop the easy tricks,
not a determined attacker (that is what the sandbox's limits are for).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

import nbformat

__all__ = ["Finding", "find_tampering", "protected_names"]

DYNAMIC_CALLS = {"setattr", "delattr", "exec", "eval", "compile", "__import__", "globals",
                 "vars", "breakpoint", "get_ipython"}
FORBIDDEN_MODULES = {"builtins", "importlib", "ctypes", "gc", "inspect", "IPython", "ipykernel",
                     "unittest", "mock", "pickle", "marshal", "dill", "cloudpickle", "runpy",
                     "code", "codeop", "_thread"}
INTROSPECTION_ATTRS = {"__dict__", "__globals__", "__builtins__", "__code__", "__closure__",
                       "__subclasses__", "__bases__", "__mro__", "__setattr__", "__delattr__",
                       "__getattribute__", "__import__", "__loader__", "__spec__", "f_globals",
                       "f_locals", "f_builtins", "f_back", "tb_frame", "gi_frame", "cr_frame"}
SYS_ATTRS = {"modules", "_getframe", "settrace", "setprofile", "meta_path", "path_hooks",
             "path_importer_cache", "addaudithook", "displayhook", "excepthook", "__stdout__",
             "__stderr__"}
ALLOWED_IMPORTS = ("IPython.display",)
ALLOWED_MAGICS = {"time", "timeit", "matplotlib"}  # %time/%timeit code is checked too


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: cell index in the submission, line in the cell, what."""

    cell: int
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.what}"


def _grading_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _parse(source: str) -> ast.Module | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None  # it fails at run time too, and nothing in it runs


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
        tree = _parse(cell.source) if cell.cell_type == "code" else None
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


class _Checker(ast.NodeVisitor):
    def __init__(self, protected: set[str], imports: dict[str, str]) -> None:
        self.protected, self.imports = protected, imports
        self.modules = set(imports) | {"sys", "os", "builtins"}
        self.findings: list[tuple[int, str]] = []
        self.depth = 0  # inside a function: plain names are local unless declared global
        self.globals: set[str] = set()

    def flag(self, node: ast.AST, what: str) -> None:
        self.findings.append((getattr(node, "lineno", 0), what))

    def _root(self, node: ast.AST) -> str | None:
        while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.Starred):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def _store(self, target: ast.AST, node: ast.AST) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._store(element, node)
        elif isinstance(target, ast.Starred):
            self._store(target.value, node)
        elif isinstance(target, ast.Name):
            self._bind(target.id, node)
        elif isinstance(target, ast.Attribute | ast.Subscript):
            root = self._root(target)
            if root in self.modules or root in self.protected:
                self.flag(node, f"changes {ast.unparse(target)} (a module or a name the "
                                "tests use)")

    def _bind(self, name: str, node: ast.AST) -> None:
        if (self.depth == 0 or name in self.globals) and name in self.protected:
            self.flag(node, f"rebinds {name!r}, which the tests use")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._store(target, node)
            root = self._root(node.value)
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Name | ast.Attribute) \
                    and root in self.modules:
                self.modules.add(target.id)  # an alias of a module: `t = np.testing`
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
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scope

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._bind(node.name, node)
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom, module: str, alias: ast.alias) -> None:
        full = f"{module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
        if (full.split(".")[0] in FORBIDDEN_MODULES or full.startswith("unittest.mock")) \
                and not full.startswith(ALLOWED_IMPORTS):
            self.flag(node, f"imports {full}")
        name = alias.asname or alias.name.split(".")[0]
        if self.imports.get(name) != (full if alias.asname or "." not in full else name):
            self._bind(name, node)
        self.modules.add(name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, "", alias)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self._import(node, node.module or "", alias)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in DYNAMIC_CALLS:
            self.flag(node, f"calls {func.id}()")
        elif isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) > 1 and not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                and not node.args[1].value.startswith("__")):
            self.flag(node, "calls getattr() with a computed or special attribute name")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in INTROSPECTION_ATTRS:
            self.flag(node, f"uses .{node.attr}")
        elif node.attr in SYS_ATTRS and self._root(node.value) == "sys":
            self.flag(node, f"uses sys.{node.attr}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in {"__builtins__", "__builtin__"}:
            self.flag(node, f"uses {node.id}")


def _magic_code(tree: ast.Module) -> list[str]:
    """The code given to ``%time``/``%timeit``, which the transformer turned into strings."""
    code = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("run_line_magic", "run_cell_magic") and len(node.args) > 1 \
                and all(isinstance(a, ast.Constant) for a in node.args):
            code += [a.value for a in node.args[1:] if isinstance(a.value, str)]
    return code


def _allowed_magic(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic")
            and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython" and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and node.args[0].value in ALLOWED_MAGICS)


def _check_code(source: str, checker: _Checker) -> None:
    tree = _parse(source)
    if tree is None:
        return
    allowed = {id(n.func.value) for n in ast.walk(tree)
               if isinstance(n, ast.Call) and _allowed_magic(n)}
    before = len(checker.findings)
    checker.visit(tree)
    # the get_ipython() inside an allowed magic is not a finding; its code is checked instead
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and id(n) in allowed]
    for _ in calls:
        for i in range(before, len(checker.findings)):
            if checker.findings[i][1] == "calls get_ipython()":
                del checker.findings[i]
                break
    for code in _magic_code(tree) if calls else []:
        _check_code(code, checker)


def find_tampering(notebook: nbformat.NotebookNode,
                   source: nbformat.NotebookNode) -> list[Finding]:
    """Everything suspicious in the code cells of ``notebook`` that the student could edit."""
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
        checker.findings = []
        _check_code(cell.source, checker)
        findings += [Finding(index, line, what) for line, what in checker.findings]
    return findings
