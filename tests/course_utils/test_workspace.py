"""course_utils.workspace: the learner's copies are made once and never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils import workspace


def released(root: Path, *names: str) -> None:
    for name in names:
        (root / "notebooks" / name).mkdir(parents=True)
        (root / "notebooks" / name / f"{name}.ipynb").write_text(f"released {name}")


def test_missing_exercises_are_copied_and_existing_copies_are_left_alone(tmp_path: Path) -> None:
    released(tmp_path, "01-concepts", "04-baseline-mlp")
    made = workspace.create_workspace(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in made] == [
        "work/01-concepts/01-concepts.ipynb", "work/04-baseline-mlp/04-baseline-mlp.ipynb"]
    mine = tmp_path / "work" / "01-concepts" / "01-concepts.ipynb"
    mine.write_text("my answers")
    (tmp_path / "notebooks" / "01-concepts" / "01-concepts.ipynb").write_text("released again")
    released(tmp_path, "08-next-steps")  # a new exercise appears
    made = workspace.create_workspace(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in made] == [
        "work/08-next-steps/08-next-steps.ipynb"]
    assert mine.read_text() == "my answers"


def test_a_folder_without_notebooks_is_refused_with_a_clear_message(tmp_path: Path,
                                                                     capsys) -> None:
    with pytest.raises(FileNotFoundError, match="run this from the course's folder"):
        workspace.create_workspace(tmp_path)
    assert workspace.main(["--root", str(tmp_path)]) == 1
    assert "course's folder" in capsys.readouterr().err


def test_main_names_each_new_copy(tmp_path: Path, capsys) -> None:
    released(tmp_path, "01-concepts")
    assert workspace.main(["--root", str(tmp_path)]) == 0
    assert "work/01-concepts/01-concepts.ipynb" in capsys.readouterr().out
    assert workspace.main(["--root", str(tmp_path)]) == 0
    assert "new exercise" not in capsys.readouterr().out
