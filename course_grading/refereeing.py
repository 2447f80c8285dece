"""The grader's side of the kernel's referee (:mod:`course_grading.referee`) (instructors).

Which cells the referee runs (the assignment's locked cells and its tests; answer cells run as
IPython runs them), the sealed request that replaces a cell's code while it runs, and the
signed verdict turned back into the cell's outputs: a test cell shows what the test itself
printed and, when it failed, one error; nothing else the kernel emitted while it ran is kept.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.utils import is_grade, is_locked, is_solution

from course_grading.referee import _RUN, _SEAL, _TEST, MIME, Sealer

__all__ = ["ANSWER", "RUN", "TEST", "Referee", "answer_names", "cell_kind", "modules_used"]

ANSWER, RUN, TEST = "answer", "run", "test"
NO_VERDICT = ("the test did not run to its end: the kernel was changed so that the grader "
              "could not run it (or it was stopped)")


def cell_kind(cell: NotebookNode) -> str:
    """``test`` (an autograded test), ``run`` (another locked cell) or ``answer``."""
    if is_grade(cell) and not is_solution(cell):
        return TEST
    return RUN if is_locked(cell) else ANSWER


def bound_names(source: str) -> set[str]:
    """The names a cell's top-level code binds (none when it is not plain Python); names
    bound inside functions, classes and comprehensions are theirs, not the cell's."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            todo += node.decorator_list  # their bodies are scopes of their own
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if not isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp
                          | ast.GeneratorExp):
            todo += ast.iter_child_nodes(node)
    return names


def modules_used(cells: list[NotebookNode]) -> list[str]:
    """Modules the cells import, and the dotted names they reach through an imported module
    (``np.testing.assert_allclose`` -> ``numpy.testing``, ...): the referee imports what it
    can of them before it remembers the libraries, so that a module a test imports lazily is
    remembered as the library has it, not as a submission may have changed it."""
    aliases: dict[str, str] = {}
    chains: set[str] = set()
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases.update({a.asname or a.name.split(".")[0]:
                                a.name if a.asname else a.name.split(".")[0] for a in node.names})
                chains |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                aliases.update({a.asname or a.name: f"{node.module}.{a.name}"
                                for a in node.names})
                chains |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Attribute):
                parts = []
                while isinstance(node, ast.Attribute):
                    parts.append(node.attr)
                    node = node.value
                if isinstance(node, ast.Name):
                    chains.add(".".join([node.id, *reversed(parts)]))
    found = set()
    for chain in chains:
        head, *rest = chain.split(".")
        if head not in aliases:
            continue
        parts = [*aliases[head].split("."), *rest]
        found |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return sorted(found)


def answer_names(source: Path) -> set[str] | None:
    """The names the answer cells of the assignment's own notebook bind (None: not found)."""
    if not source.is_file():
        return None
    notebook = nbformat.read(source, as_version=4)
    return set().union(*(bound_names(c.source) for c in notebook.cells
                         if c.cell_type == "code" and cell_kind(c) == ANSWER))


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class Referee:
    """One kernel's referee, from the grader: requests out, verdicts in."""

    def __init__(self, key: bytes, answers: set[str] | None) -> None:
        self.sealer = Sealer(key)
        self.answers = answers  # None: pin nothing (the assignment's notebook was not found)
        self.sealed = False
        self.early_pins: set[str] = set()  # of the locked cells run before the seal

    def pins(self, cell: NotebookNode) -> tuple[str, ...]:
        """The names ``cell`` (a locked cell) binds that no answer cell of the assignment binds."""
        return () if self.answers is None else tuple(sorted(
            bound_names(cell.source) - self.answers))

    def before_seal(self, cell: NotebookNode) -> None:
        """A locked cell run as IPython runs it, before the seal (no student code has run)."""
        self.early_pins |= set(self.pins(cell))

    def seal(self, modules: list[str]) -> tuple[str, str]:
        """The request that seals the kernel before the first answer cell, having imported
        what it can of ``modules``, pinning what the locked cells before it bound."""
        self.sealed = True
        return self.sealer.request(_SEAL, "", (*modules, "", *sorted(self.early_pins)))

    def request(self, cell: NotebookNode, kind: str) -> tuple[str, str]:
        """The code that asks the referee to run ``cell``, and the request's nonce."""
        if kind == TEST:
            return self.sealer.request(_TEST, cell.source)
        return self.sealer.request(_RUN, cell.source, self.pins(cell))

    def verdict(self, outputs: list[NotebookNode], nonce: str) -> tuple[dict | None, list]:
        """The signed verdict among ``outputs`` (None unless exactly one says anything about
        this request: a second one means someone else signed) and the other outputs."""
        verdicts, others = [], []
        for output in outputs:
            data = output.get("data", {}) if output.output_type == "display_data" else {}
            if MIME in data:
                verdicts.append(self.sealer.verdict(data[MIME], nonce))
            else:
                others.append(output)
        signed = [v for v in verdicts if v is not None]
        return (signed[0] if len(signed) == 1 else None), others

    def judge(self, cell: NotebookNode, kind: str, nonce: str) -> None:
        """Replace the outputs of ``cell``, run by the referee, with what its verdict says."""
        verdict, others = self.verdict(cell.outputs, nonce)
        if kind == TEST:
            printed = verdict.get("stdout", "") if verdict else ""
            others = [new_output("stream", name="stdout", text=printed)] if printed else []
        elif verdict is None:  # a locked cell: its own outputs stay, but not a kernel's error
            others = [o for o in others if o.output_type != "error"]
        if verdict is None:
            others.append(_error("GradingError", NO_VERDICT))
        elif verdict["ok"] != "1":
            others.append(_error(verdict["ename"] or "Error", verdict["evalue"]))
        cell.outputs = others


def seal_cell(code: str) -> NotebookNode:
    """A scratch cell that carries the seal request (it is not part of the notebook)."""
    return nbformat.v4.new_code_cell(code)
