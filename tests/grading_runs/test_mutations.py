"""The mutation suite: plausible answers to every graded part, graded through the real test cells.

Each wrong answer must lose the points of its own part, with a message that says what is wrong;
each correct alternative must keep full marks in its part and every later one (the alternatives
are graded together, as the notebook of a learner who wrote every part differently). The answers
live in mutations/<assignment>.yaml beside this file; mutation_runner.py grades them all in one
process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from course_grading.course import assignments
from tests.grading_runs.mutation_runner import MUTATIONS, load_exercise
from tests.support import REPO

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignments(REPO)
MIN_WRONG, MIN_CORRECT = 3, 1


def variant_ids() -> list[tuple[str, int]]:
    ids = []
    for assignment in ASSIGNMENTS:
        spec = yaml.safe_load((MUTATIONS / f"{assignment}.yaml").read_text())
        ids += [(assignment, index) for index in range(len(spec["variants"]))]
    return ids


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """mutation_runner's report: per exercise, its graded variants and released answer cells."""
    out = tmp_path_factory.mktemp("mutations") / "graded.json"
    result = subprocess.run(
        [sys.executable, "-m", "tests.grading_runs.mutation_runner", str(out), *ASSIGNMENTS],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def graded(report) -> dict[tuple[str, int], dict]:
    return {(exercise["assignment"], variant["index"]): variant
            for exercise in report for variant in exercise["variants"]}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_part_has_wrong_answers_and_a_correct_alternative(assignment: str) -> None:
    exercise = load_exercise(assignment)
    for part in exercise.parts:
        kinds = [v["kind"] for v in exercise.variants if v["part"] == part.answer_id]
        assert kinds.count("wrong") >= MIN_WRONG, f"{part.answer_id}: {kinds.count('wrong')} wrong"
        assert kinds.count("correct") >= MIN_CORRECT, f"{part.answer_id}: no correct alternative"
    assert {v["kind"] for v in exercise.variants} <= {"wrong", "correct"}


@pytest.mark.parametrize("key", variant_ids(), ids=lambda key: f"{key[0]}-{key[1]}")
def test_answer_gets_the_points_it_deserves(graded, key: tuple[str, int]) -> None:
    variant = graded[key]
    label = f"{variant['part']} ({variant['kind']}: {variant['what']})"
    own = variant["own_test"]
    if variant["kind"] == "wrong":
        assert variant["points"][own] == 0, f"{label} kept the points of {own}"
        message = variant["errors"][own].split(":", 1)[-1].strip()
        assert message, f"{label} fails {own} without a message: {variant['errors'][own]!r}"
    else:
        lost = {test: variant["errors"][test] for test, points in variant["points"].items()
                if points < variant["max_points"][test]}
        assert not lost, f"{label} lost points: {lost}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_part_left_as_released_scores_zero(report, assignment: str) -> None:
    """An untouched notebook earns nothing: each part's test fails on the released cell.
    (test_roundtrip grades one untouched notebook end to end, through nbgrader.)"""
    (exercise,) = [e for e in report if e["assignment"] == assignment]
    parts = {variant["own_test"] for variant in exercise["untouched"]}
    assert parts == set(exercise["untouched"][0]["max_points"])  # every graded part
    for variant in exercise["untouched"]:
        assert variant["points"][variant["own_test"]] == 0, \
            f"{variant['part']} as released keeps the points of {variant['own_test']}"
