"""Each exercise page ends with its worked solution, behind a toggle that starts closed.

The exercise pages are the released notebooks, ``notebooks/NN-slug/NN-slug.ipynb``. While the book
is built, the answer cells of ``solutions/NN-slug/NN-slug.ipynb`` — nbgrader's solution cells, as a
learner's finished notebook would hold them, without the solution markers — are appended to the
page inside a ``<details>`` element. Test cells are never read, so no hidden test can show. For a
class graded for credit, ``course_worked_solutions: false`` in ``_config.yml``'s ``sphinx:
config:`` leaves them out.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.application import Sphinx

EXERCISE_PAGE = re.compile(r"^notebooks/(?P<slug>\d\d-[a-z0-9-]+)/(?P=slug)$")
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
SUMMARY = "Worked solution — open it after your own attempt"


def answer_cells(solution: Path) -> list[tuple[str, str]]:
    """(grade id, code) of each solution cell of ``solution``, in order, markers removed."""
    notebook = nbformat.read(solution, as_version=4)
    answers = []
    for cell in notebook.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not grading.get("solution"):
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not MARKER.match(line))
        answers.append((grading.get("grade_id", ""), code.strip("\n")))
    return answers


def part_title(grade_id: str) -> str:
    """``part-3-dense-forward`` → ``Part 3: dense forward``."""
    match = re.match(r"part-(\d+)-(.*)", grade_id)
    return f"Part {match[1]}: {match[2].replace('-', ' ')}" if match else grade_id


def worked_solution(answers: list[tuple[str, str]]) -> nodes.container:
    """The closed ``<details>`` element holding each part's answer as highlighted code."""
    box = nodes.container(classes=["worked-solution"])
    box += nodes.raw("", f'<details class="worked-solution">\n<summary>{SUMMARY}</summary>\n',
                     format="html")
    for grade_id, code in answers:
        box += nodes.paragraph("", "", nodes.strong(text=part_title(grade_id)))
        box += nodes.literal_block(code, code, language="python")
    box += nodes.raw("", "</details>\n", format="html")
    return box


def append_worked_solution(app: Sphinx, doctree: nodes.document) -> None:
    """On an exercise page, append its worked solution (unless the configuration says not to)."""
    match = EXERCISE_PAGE.match(app.env.docname)
    if not match or not app.config.course_worked_solutions:
        return
    slug = match["slug"]
    solution = Path(app.srcdir) / "solutions" / slug / f"{slug}.ipynb"
    app.env.note_dependency(str(solution))  # rebuilt when the solution changes
    answers = answer_cells(solution)
    if answers:
        sections = list(doctree.findall(nodes.section))
        (sections[0] if sections else doctree).append(worked_solution(answers))
