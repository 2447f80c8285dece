"""The learner's workspace: their own copies of the exercises, which no course command overwrites.

``notebooks/`` holds the student versions that ``make release`` regenerates; a learner who worked
there would lose their answers. ``python -m course_utils.workspace`` (run by ``make lab``) copies
each exercise that the workspace lacks into ``work/NN-slug/`` and never touches a copy that is
already there, so a learner's answers survive releases, updates and every other target.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["WORKSPACE", "create_workspace", "main"]

WORKSPACE = "work"


def create_workspace(course_root: Path, workspace: str = WORKSPACE) -> list[Path]:
    """Copy every exercise of ``notebooks/`` that ``workspace`` lacks; return the copies made."""
    course_root = Path(course_root)
    released = course_root / "notebooks"
    if not released.is_dir():
        raise FileNotFoundError(f"{released} does not exist: run this from the course's folder")
    made = []
    for notebook in sorted(released.glob("*/*.ipynb")):
        copy = course_root / workspace / notebook.parent.name / notebook.name
        if copy.exists():
            continue  # the learner's own work: never overwritten
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, copy)
        made.append(copy)
    return made


def main(argv: Sequence[str] | None = None) -> int:
    """Create or complete the workspace and say what was copied."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the course's folder")
    args = parser.parse_args(argv)
    try:
        made = create_workspace(args.root)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for copy in made:
        print(f"new exercise in your workspace: {copy.relative_to(args.root)}")
    print(f"Work on the exercises in {WORKSPACE}/: no course command overwrites them "
          "(notebooks/ holds the released originals).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
