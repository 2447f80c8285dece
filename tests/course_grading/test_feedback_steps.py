"""What nbgrader's pages show of a submission (course_grading.feedback_steps)."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import is_grade

from course_grading import feedback_steps
from course_grading.feedback_steps import (
    RemoveQuotedHiddenTests,
    SanitizeForHtml,
    as_code_block,
    markdown_is_safe,
)
from tests.course_grading.test_nbgrader_steps import course_config, run
from tests.support import REPO

# --- HTML made from a submission (feedback, Formgrader) runs nothing of it

SCRIPTS = [  # what a submission's outputs and Markdown put in front of a grader
    new_output("display_data", data={"text/html": '<script>alert("xss-1")</script>',
                                     "text/plain": "x"}),
    new_output("display_data", data={"text/html": '<img src=x onerror=alert("xss-2")>'}),
    new_output("display_data", data={"text/markdown": '[m](javascript:alert("xss-3"))'}),
    new_output("display_data", data={"application/javascript": 'alert("xss-4")'}),
    new_output("display_data", data={"text/latex": r'$\href{javascript:alert("xss-5")}{x}$'}),
    new_output("display_data", data={"image/svg+xml": '<svg onload=alert("xss-6")/>'}),
]


def submission_script_outputs() -> nbformat.NotebookNode:
    """An answer whose outputs and Markdown cells hold script (kept verbatim before)."""
    answer = new_code_cell("show()", outputs=copy.deepcopy(SCRIPTS), metadata={"nbgrader": {
        "grade": False, "grade_id": "part-1", "solution": True, "locked": False,
        "schema_version": 3}})
    return new_notebook(cells=[
        new_markdown_cell("# Part 1\n\nCompute $\\sigma(z)$ with `x < 3`, **bold**."),
        answer,
        new_markdown_cell('<script>alert("xss-7")</script>'),
        new_markdown_cell('<img src=x onerror=alert("xss-8")>'),
        new_markdown_cell('[click](javascript:alert("xss-9"))'),
        new_markdown_cell('$$\\href{javascript:alert("xss-10")}{x}$$'),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


class PageScan(HTMLParser):
    """What of a page could run: event handlers, javascript: URLs, scripts, TeX links."""

    def __init__(self) -> None:
        super().__init__()
        self.handlers, self.urls, self.scripts, self.tex, self._in = [], [], [], [], []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.handlers += [n for n, _ in attrs if n.startswith("on")]
        self.urls += [v for n, v in attrs if n in ("href", "src") and v and
                      re.sub(r"\s", "", v).lower().startswith("javascript:")]
        if tag not in ("img", "br", "meta", "link", "hr", "input"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "script" and "xss" in data:
            self.scripts.append(data)
        elif "\\href" in data and "pre" not in self._in and "code" not in self._in:
            self.tex.append(data)


def feedback_exporter(ours: bool = True) -> Any:
    """The exporter of `nbgrader generate_feedback`, as nbgrader builds it, less GetGrades
    (``ours=False``: without the course's HTML settings)."""
    config = course_config()
    if not ours:
        config.HTMLExporter.sanitize_html = False
        config.HTMLExporter.preprocessors = []
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for step in converter.preprocessors[1:]:  # GetGrades reads the gradebook
        exporter.register_preprocessor(step)
    return exporter


def formgrader_exporter() -> HTMLExporter:
    """The exporter of the Formgrader's submission view, as nbgrader's extension builds it."""
    from nbgrader.server_extensions.formgrader import handlers

    config = course_config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    return HTMLExporter(config=config)


FEEDBACK = {"nbgrader": {"notebook": "01-concepts", "score": 0, "max_score": 10,
                         "late_penalty": 0, "assignment": "01-concepts", "student": "ada",
                         "db_url": "sqlite:////nonexistent/gradebook.db"}}
FORMGRADE = {"assignment_id": "01-concepts", "notebook_id": "01-concepts", "submission_id": "1",
             "index": 0, "total": 1, "base_url": "", "student": "ada", "last_name": "L",
             "first_name": "F", "notebook_path": "autograded/ada/01-concepts/01-concepts.ipynb"}


@pytest.mark.parametrize(("exporter", "resources"), [(feedback_exporter, FEEDBACK),
                                                     (formgrader_exporter, FORMGRADE)],
                         ids=["feedback", "formgrader"])
def test_submission_script_outputs_run_nowhere(exporter, resources) -> None:
    page, _ = exporter().from_notebook_node(submission_script_outputs(),
                                             copy.deepcopy(resources))
    empty, _ = exporter().from_notebook_node(new_notebook(), copy.deepcopy(resources))
    scan, template = PageScan(), PageScan()
    scan.feed(page)
    template.feed(empty)
    assert scan.handlers == template.handlers  # the template's own (the Formgrader's buttons)
    assert (scan.urls, scan.scripts, scan.tex) == ([], [], [])
    assert page.count("<script") == empty.count("<script")  # the template's own, no more
    assert "onerror" not in re.sub(r"&lt;img[^<]*?&gt;", "", page.replace("&#34;", '"'))
    assert "Compute" in page and "<strong>bold</strong>" in page  # Markdown still renders
    assert "xss-7" in page and "xss-9" in page  # shown as text, for the grader to see


def test_nbgrader_alone_keeps_a_submissions_script() -> None:
    """The trap (and a check of the scan itself): nbgrader's feedback runs what it is given."""
    page, _ = feedback_exporter(ours=False).from_notebook_node(submission_script_outputs(),
                                                               copy.deepcopy(FEEDBACK))
    scan = PageScan()
    scan.feed(page)
    assert scan.handlers and scan.urls and scan.scripts and scan.tex


def test_the_config_sanitizes_html_for_every_exporter_nbgrader_makes() -> None:
    assert feedback_exporter().sanitize_html and formgrader_exporter().sanitize_html
    assert "SanitizeForHtml" in [type(p).__name__ for p in feedback_exporter()._preprocessors]


@pytest.mark.parametrize("markdown", [
    "# Title\n\nSome *text*, `x < 3`, a [link](https://example.org) and $\\sigma(z)$.",
    "x<sub>i</sub>, 10<sup>3</sup>, a | b\n--|--\n1 | 2",
    "![plot](data:image/png;base64,iVBORw0KGgo=)",
    "[relative](other.ipynb#part-1)",
])
def test_plain_markdown_is_safe(markdown: str) -> None:
    assert markdown_is_safe(new_markdown_cell(markdown))


@pytest.mark.parametrize("markdown", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "[x](javascript&#58;alert(1))", "<javascript:alert(1)>", "[x]: javascript:alert(1)\n\n[y][x]",
    "<a href='&#106;avascript:alert(1)'>x</a>", "<!--><script>x</script>-->",
    "<div style='position:fixed'>x</div>", "<iframe src=https://example.org></iframe>",
    "$\\href{javascript:alert(1)}{x}$", "<svg><script>alert(1)</script></svg>",
    "<a href='data:text/html,<script>alert(1)</script>'>x</a>",
    "<b onclick=x>\n````\n```\n</code></pre><script>x</script>",
])
def test_markdown_that_could_run_is_shown_as_text(markdown: str) -> None:
    cell = run(SanitizeForHtml(), new_markdown_cell(markdown))
    assert not markdown_is_safe(new_markdown_cell(markdown))
    assert cell.source == as_code_block(markdown)
    assert run(SanitizeForHtml(), copy.deepcopy(cell)).source == cell.source  # once only
    html_text = HTMLExporter().markdown2html({"cell": cell}, cell.source)
    assert set(re.findall(r"</?[a-zA-Z][^>]*>", html_text)) <= {
        "<p>", "</p>", "<em>", "</em>", "<pre>", "</pre>", "<code>", "</code>"}


def test_markdown_that_cannot_be_rendered_is_shown_as_text(monkeypatch) -> None:
    def broken(*args: Any) -> str:
        raise RecursionError

    monkeypatch.setattr(feedback_steps.MarkdownWithMath, "render", broken)
    assert not markdown_is_safe(new_markdown_cell("# Title"))


@pytest.mark.parametrize("path", sorted((REPO / "solutions").glob("*/*.ipynb")),
                         ids=lambda p: p.parent.name)
def test_the_courses_own_markdown_is_kept(path) -> None:
    notebook = nbformat.read(path, as_version=4)
    cleaned, _ = SanitizeForHtml().preprocess(copy.deepcopy(notebook), {})
    assert [c.source for c in cleaned.cells] == [c.source for c in notebook.cells]


# --- RemoveQuotedHiddenTests: no output in feedback quotes a hidden test

SOLUTION = REPO / "solutions" / "01-concepts" / "01-concepts.ipynb"


def solution() -> nbformat.NotebookNode:
    return nbformat.read(SOLUTION, as_version=4)


def hidden_lines() -> set[str]:
    return feedback_steps.hidden_test_lines([c.source for c in solution().cells])


def a_hidden_line() -> str:
    return next(line for line in sorted(hidden_lines()) if "assert" in line and "'" in line)


def test_hidden_test_lines_are_the_long_secret_lines() -> None:
    lines = hidden_lines()
    assert lines and all(len(line) > 12 for line in lines)
    visible = " ".join(" ".join(c.source.split()) for c in student_copy_01().cells)
    assert not any(line in visible for line in lines)
    assert not any("HIDDEN TESTS" in line for line in lines)


def student_copy_01() -> nbformat.NotebookNode:
    return nbformat.read(REPO / "notebooks" / "01-concepts" / "01-concepts.ipynb", as_version=4)


def submission_prints_input_history() -> nbformat.NotebookNode:
    """The autograded notebook of a learner whose last answer prints `In` (hidden tests and
    all), in every form the grader might meet it."""
    notebook = solution()  # its test cells hold the hidden tests, as after nbgrader's run
    history = ["", *(c.source for c in notebook.cells if c.cell_type == "code")]
    last = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")][-1]
    line = a_hidden_line()
    last.outputs = [
        new_output("stream", name="stdout", text="my answer is ready\n"),
        new_output("stream", name="stdout", text=str(history)),
        new_output("execute_result", data={"text/plain": repr(history)}, execution_count=9),
        new_output("display_data", data={"text/html": html.escape(json.dumps(history))}),
        new_output("error", ename="ValueError", evalue="x", traceback=[
            "\x1b[0;32m----> 3\x1b[0m " + line.replace("assert", "\x1b[1massert\x1b[0m")]),
        new_output("stream", name="stdout", text=repr(repr(line))),
    ]
    return notebook


def test_submission_prints_input_history_is_removed_from_feedback() -> None:
    notebook, _ = RemoveQuotedHiddenTests().preprocess(submission_prints_input_history(),
                                                       copy.deepcopy(FEEDBACK))
    last = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")][-1]
    assert last.outputs[0].text == "my answer is ready\n"
    assert [o.get("text") for o in last.outputs[1:]] == [feedback_steps.QUOTED_TEST] * 5


def test_the_feedback_page_holds_no_hidden_test_line() -> None:
    notebook = submission_prints_input_history()
    for cell in notebook.cells:
        if is_grade(cell):
            cell.metadata.nbgrader["score"] = 0  # what GetGrades reads from the gradebook
    page, _ = feedback_exporter().from_notebook_node(notebook, copy.deepcopy(FEEDBACK))
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert not [line for line in hidden_lines() if line in text]
    assert "my answer is ready" in text and feedback_steps.QUOTED_TEST.strip() in text


def test_a_line_of_the_learners_own_code_may_be_quoted() -> None:
    """A traceback of the learner's own code that shows a line a hidden test also has."""
    line = next(line for line in sorted(hidden_lines()) if line.startswith("except "))
    notebook = solution()
    answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += f"\ntry:\n    pass\n{line}\n    raise\n"
    answer.outputs = [new_output("error", ename="E", evalue="", traceback=[f"---> {line}"])]
    notebook, _ = RemoveQuotedHiddenTests().preprocess(notebook, copy.deepcopy(FEEDBACK))
    assert notebook.cells[notebook.cells.index(answer)].outputs[0].traceback == [f"---> {line}"]


def test_a_failing_tests_message_stays() -> None:
    notebook = solution()
    index = next(i for i, c in enumerate(notebook.cells) if is_grade(c))
    notebook.cells[index].outputs = [new_output(
        "error", ename="AssertionError", evalue="sigmoid is wrong for large |z|",
        traceback=["AssertionError: sigmoid is wrong for large |z|"])]
    notebook, _ = RemoveQuotedHiddenTests().preprocess(notebook, copy.deepcopy(FEEDBACK))
    assert notebook.cells[index].outputs[0].evalue == "sigmoid is wrong for large |z|"


@pytest.mark.slow  # a real nbgrader gradebook, migrated by alembic
def test_hidden_tests_are_read_from_the_gradebook(tmp_path, monkeypatch) -> None:
    """After ClearHiddenTests, the gradebook still knows the tests (nbgrader saved them)."""
    # a new gradebook runs `alembic` by name (tests/course_grading/test_gradebook.py)
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.add_assignment("01-concepts")
        gradebook.add_notebook("01-concepts", "01-concepts")
        for cell in solution().cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id"):
                gradebook.update_or_create_source_cell(
                    meta["grade_id"], "01-concepts", "01-concepts", source=cell.source,
                    cell_type=cell.cell_type, locked=bool(meta.get("locked")), checksum="x")
    cell = new_code_cell("print(In)", outputs=[new_output("stream", text=a_hidden_line())])
    resources = {"nbgrader": {**FEEDBACK["nbgrader"], "db_url": db_url}}
    notebook, _ = RemoveQuotedHiddenTests().preprocess(new_notebook(cells=[cell]), resources)
    assert notebook.cells[0].outputs[0].text == feedback_steps.QUOTED_TEST


@pytest.mark.parametrize("resources", [{}, {"nbgrader": {"db_url": 3}}, FEEDBACK],
                         ids=["no-resources", "bad-db-url", "missing-gradebook"])
def test_feedback_survives_what_it_cannot_read(resources) -> None:
    odd = new_output("display_data", data={"text/plain": "ok"})
    odd.data["application/json"] = {"nested": [1, None, {"x": 2.5}]}
    notebook = solution()
    notebook.cells.insert(0, new_code_cell("1", outputs=[odd]))
    notebook, _ = RemoveQuotedHiddenTests().preprocess(notebook, copy.deepcopy(resources))
    assert notebook.cells[0].outputs[0].data["text/plain"] == "ok"


def test_an_output_that_cannot_be_checked_is_hidden(monkeypatch) -> None:
    def broken(*args: Any) -> bool:
        raise RecursionError

    monkeypatch.setattr(feedback_steps, "quotes_hidden_test", broken)
    notebook = solution()
    notebook.cells.append(new_code_cell("1", outputs=[new_output("stream", text="anything")]))
    notebook, _ = RemoveQuotedHiddenTests().preprocess(notebook, {})
    assert notebook.cells[-1].outputs[0].text == feedback_steps.QUOTED_TEST


def test_when_the_hidden_tests_cannot_be_known_every_output_is_hidden() -> None:
    notebook = solution()
    notebook.cells[0].metadata["nbgrader"] = "not a dict"  # nbgrader's is_locked fails on it
    notebook.cells.append(new_code_cell("1", outputs=[new_output("stream", text="anything")]))
    notebook, _ = RemoveQuotedHiddenTests().preprocess(notebook, copy.deepcopy(FEEDBACK))
    assert notebook.cells[-1].outputs[0].text == feedback_steps.QUOTED_TEST
