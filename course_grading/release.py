"""Student copies: ``notebooks/`` regenerated from ``solutions/`` by nbgrader (instructors).

``make release`` runs :func:`release`. nbgrader works in a scratch copy of the course, so no
gradebook or log is left behind, and the committed student copies are exactly its output.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from course_grading.course import CONFIG_FILE, GradingError, assignments, folder, load_config
from course_grading.nbgrader_call import NbgraderRunner

__all__ = ["release"]


def release(course_root: Path, names: list[str] | None = None) -> list[Path]:
    """Regenerate the student copies of ``names`` (default: every assignment); return them."""
    course_root = Path(course_root).resolve()
    config = load_config(course_root)
    source_root, release_root = folder(course_root, "source", config), \
        folder(course_root, "release", config)
    names = names or assignments(course_root)
    for name in names:
        if not (source_root / name).is_dir():
            raise GradingError(f"no assignment {name!r} under {source_root}")
    written = []
    with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as scratch, \
            NbgraderRunner() as nbgrader:
        scratch_root = Path(scratch)
        shutil.copy2(course_root / CONFIG_FILE, scratch_root / CONFIG_FILE)
        for name in names:
            shutil.copytree(source_root / name, scratch_root / source_root.name / name)
            nbgrader.run(scratch_root, "generate_assignment", name, "--force", "--no-db")
            target = release_root / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(scratch_root / release_root.name / name, target)
            written += sorted(target.glob("*.ipynb"))
    return written
