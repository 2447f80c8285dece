"""Tests of course_authoring.synthetic_class: a class whose every student hands in the solution."""

from __future__ import annotations

from pathlib import Path

from course_authoring.synthetic_class import make_class


def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    (root / "solutions" / "01-x").mkdir(parents=True)
    (root / "solutions" / "01-x" / "01-x.ipynb").write_text('{"the": "solution"}')
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


def test_every_student_hands_in_the_solution(tmp_path: Path) -> None:
    made = make_class(course(tmp_path), tmp_path / "class", "01-x", 3)
    assert made == tmp_path / "class"
    handed_in = sorted(made.glob("submitted/*/01-x/01-x.ipynb"))
    assert [p.parts[-3] for p in handed_in] == ["student-00", "student-01", "student-02"]
    assert {p.read_text() for p in handed_in} == {'{"the": "solution"}'}
    assert (made / "solutions" / "01-x" / "01-x.ipynb").is_file()
    assert (made / "nbgrader_config.py").read_text() == "c = get_config()\n"


def test_a_given_configuration_replaces_the_courses(tmp_path: Path) -> None:
    made = make_class(course(tmp_path), tmp_path / "class", "01-x", 1, config="# stock\n")
    assert (made / "nbgrader_config.py").read_text() == "# stock\n"
