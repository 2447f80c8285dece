"""Grade plausible answers part by part, through the test cells nbgrader runs.

Run as ``python -m tests.grading_runs.mutation_runner OUT.json ASSIGNMENT...``: one process for
all exercises (the imports are paid once), one fresh namespace per exercise and per answer. Each
wrong answer in tests/grading_runs/mutations/<assignment>.yaml replaces one answer cell of the
solution, and the part's test cell (visible and hidden tests) runs against it. The correct
alternatives run together, top to bottom, as the notebook of a learner who wrote every part
differently from the solution (the n-th alternative of each part in the n-th such notebook; the
solution where a part has fewer): each must keep full marks in its part and every later one.
Each part's answer cell as released (unanswered) is graded too, as a wrong answer.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import yaml

from tests.support import REPO, SOLUTION_MARKERS

MUTATIONS = Path(__file__).parent / "mutations"
Namespace = dict[str, object]
LARGEST_COPIED_ARRAY = 8 * 2**20


@dataclass
class Part:
    """One graded part: the answer cell, its test cell, and the cells that run before them."""

    answer_id: str
    answer: str  # the solution, without its markers
    test_id: str
    test: str
    points: float
    before: list[str] = field(default_factory=list)  # ungraded code cells between parts


@dataclass
class Exercise:
    """An exercise split into set-up code and graded parts, with its plausible answers."""

    assignment: str
    setup: list[str]
    parts: list[Part]
    replay: dict[str, list[str]]  # part -> earlier answers to re-run first (they make its objects)
    variants: list[dict]

    def part(self, answer_id: str) -> int:
        return [p.answer_id for p in self.parts].index(answer_id)


def released_stubs(assignment: str) -> dict[str, str]:
    """The answer cells of the student copy, as released (unanswered), by grade_id."""
    path = REPO / "notebooks" / assignment / f"{assignment}.ipynb"
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source
            for cell in nbformat.read(path, as_version=4).cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def load_exercise(assignment: str) -> Exercise:
    """The solution notebook and the mutation file of ``assignment``."""
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    setup: list[str] = []
    parts: list[Part] = []
    pending: list[str] = []
    answer: tuple[str, str] | None = None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answer = (meta["grade_id"], SOLUTION_MARKERS.sub("", cell.source))
        elif meta.get("grade"):
            assert answer is not None, f"{assignment}: test cell {meta['grade_id']} has no answer"
            parts.append(Part(answer[0], answer[1], meta["grade_id"], cell.source,
                              float(meta["points"]), pending))
            pending, answer = [], None
        elif parts or answer:
            pending.append(cell.source)
        else:
            setup.append(cell.source)
    spec = yaml.safe_load((MUTATIONS / f"{assignment}.yaml").read_text())
    return Exercise(assignment, setup, parts, spec.get("replay", {}), spec["variants"])


def fresh(state: Namespace) -> Namespace:
    """A namespace to run one answer in: the saved state, with its NumPy arrays and its lists of
    numbers (exercise 6's baseline_check) copied.

    An answer that changes an array or such a list in place (a plausible mistake, or a cheat)
    must not reach the next one.
    Large arrays (a whole dataset) are shared but read-only, so such a change fails loudly;
    models and other objects are shared, so a part that changes them names a replay instead.
    """
    namespace = {}
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            if value.nbytes <= LARGEST_COPIED_ARRAY:
                value = value.copy()
            else:
                value.flags.writeable = False
        elif isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            value = list(value)
        namespace[name] = value
    return namespace


def run_cell(source: str, namespace: Namespace, name: str) -> str | None:
    """Execute one cell as the kernel would; None, or the error it ended with."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, name, "exec"), namespace)  # noqa: S102 - it is a test harness
    except BaseException as error:  # noqa: BLE001 - a cell may raise anything, even SystemExit
        if isinstance(error, KeyboardInterrupt):
            raise
        lines = traceback.format_exception_only(type(error), error)
        return "".join(lines).strip()
    return None


class Grader:
    """Runs the parts of one exercise from saved states, so no answer re-runs what came before."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        namespace: Namespace = {"__name__": "__main__"}
        for index, source in enumerate(exercise.setup):
            error = run_cell(source, namespace, f"setup-{index}")
            assert error is None, f"{exercise.assignment} set-up failed: {error}"
        self.states = [namespace]  # states[k]: after the solution of parts 0..k-1
        for k, part in enumerate(exercise.parts):
            results: dict[str, str | None] = {}
            after = self.run_part(k, fresh(self.states[k]), part.answer, results)
            failed = {key: value for key, value in results.items() if value}
            assert not failed, f"{exercise.assignment}: the solution fails {failed}"
            self.states.append(after)

    def run_part(self, k: int, namespace: Namespace, answer: str,
                 results: dict[str, str | None], replay: bool = True) -> Namespace:
        """Part k with ``answer`` in ``namespace``; records the test cell's error (or None).

        ``replay`` re-runs the earlier answers the mutation file names, for a part started from a
        saved state; a notebook run top to bottom has made its own objects already.
        """
        part = self.exercise.parts[k]
        for earlier in self.exercise.replay.get(part.answer_id, []) if replay else []:
            run_cell(self.exercise.parts[self.exercise.part(earlier)].answer, namespace, earlier)
        for index, source in enumerate(part.before):
            run_cell(source, namespace, f"{part.answer_id}-before-{index}")
        answer_error = run_cell(answer, namespace, part.answer_id)
        test_error = run_cell(part.test, namespace, part.test_id)
        if test_error and answer_error:
            test_error = f"{test_error} (the answer cell raised {answer_error})"
        results[part.test_id] = test_error
        return namespace

    def grade_wrong(self, variant: dict) -> dict:
        """Points of the part that one wrong answer replaces."""
        k = self.exercise.part(variant["part"])
        started = time.perf_counter()
        results: dict[str, str | None] = {}
        self.run_part(k, fresh(self.states[k]), variant["code"], results)
        return self.report(variant, results, time.perf_counter() - started)

    def grade_correct(self) -> list[dict]:
        """Points of every part for the notebooks made of the correct alternatives.

        Notebook n takes the n-th alternative of every part that has one, and the solution's
        answer elsewhere; it starts from the saved state before its first alternative.
        """
        by_part = [[v for v in self.exercise.variants
                    if v["kind"] == "correct" and v["part"] == part.answer_id]
                   for part in self.exercise.parts]
        graded = []
        for n in range(max(map(len, by_part), default=0)):
            started = time.perf_counter()
            results: dict[str, str | None] = {}
            # before its first alternative the notebook is the solution's: start from that state
            first = min(k for k in range(len(by_part)) if n < len(by_part[k]))
            namespace = fresh(self.states[first])
            for k in range(first, len(self.exercise.parts)):
                part = self.exercise.parts[k]
                answer = by_part[k][n]["code"] if n < len(by_part[k]) else part.answer
                namespace = self.run_part(k, namespace, answer, results, replay=k == first)
            seconds = time.perf_counter() - started
            graded += [self.report(by_part[k][n], results, seconds)
                       for k in range(len(by_part)) if n < len(by_part[k])]
        return graded

    def report(self, variant: dict, results: dict[str, str | None], seconds: float) -> dict:
        parts = self.exercise.parts
        k = self.exercise.part(variant["part"])
        return {
            "assignment": self.exercise.assignment,
            # its place in the mutation file (None: a released, unanswered cell)
            "index": (self.exercise.variants.index(variant)
                      if variant in self.exercise.variants else None),
            "part": variant["part"],
            "kind": variant["kind"],
            "what": variant["what"],
            # a correct alternative answers for its own part and every later one
            "points": {p.test_id: (0.0 if results[p.test_id] else p.points)
                       for p in parts[k:] if p.test_id in results},
            "max_points": {p.test_id: p.points for p in parts},
            "own_test": parts[k].test_id,
            "errors": {key: value for key, value in results.items() if value},
            "seconds": round(seconds, 3),
        }


def main(out: str, assignments: list[str]) -> None:
    report = []
    for assignment in assignments:
        started = time.perf_counter()
        grader = Grader(load_exercise(assignment))
        variants = grader.exercise.variants
        graded = [grader.grade_wrong(v) for v in variants if v["kind"] == "wrong"]
        graded += grader.grade_correct()
        # each part left as released: what an untouched notebook scores, part by part
        untouched = [grader.grade_wrong({"part": part, "kind": "wrong", "what": "as released",
                                         "code": stub})
                     for part, stub in released_stubs(assignment).items()]
        report.append({"assignment": assignment, "variants": graded, "untouched": untouched,
                       "seconds": round(time.perf_counter() - started, 3)})
        print(f"{assignment}: {len(graded)} answers in {time.perf_counter() - started:.1f} s",
              file=sys.stderr, flush=True)
    Path(out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
