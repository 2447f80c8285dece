"""The course's own nbgrader steps (preprocessors): autograding that survives bad submissions.

They are switched on in ``nbgrader_config.py`` (``Autograde.autograde_preprocessors`` and
``GenerateFeedback.preprocessors``), so ``make grade`` and a hand-run ``nbgrader autograde``
use them alike:

- :class:`GuardedExecute` runs the notebook in the sandboxed kernel (:mod:`course_grading.sandbox`)
  with a per-cell and a per-notebook time limit; a kernel that dies or hangs ends the run of
  that notebook, and every grade cell not run gets an error (so 0 points, never full marks for
  a cell with no output);
- :class:`StderrToStdout` turns stderr in grade cells into stdout: nbgrader 0.9 gives 0 points
  to a grade cell with *any* stderr output (``nbgrader.utils.determine_grade``), so a warning
  or a log line would zero a correct answer; errors still count as failures;
- :class:`ScoreByErrorOnly` makes a test cell's score depend on its error output alone: nbgrader
  reads an ``execute_result`` of a test cell as its partial score before it looks for an error
  (a thread calling ``sys.displayhook(2)`` would earn a failing test its points);
- :class:`TruncateOutputs` caps every output at ``max_chars`` characters;
- :class:`HideHiddenTestTracebacks` keeps only the last line of a grade cell's traceback in
  feedback: IPython's traceback quotes the source lines around the failing hidden test;
- :class:`RemoveQuotedHiddenTests` replaces, in feedback, every output that quotes a line of a
  hidden test (a printed input history ``In``, source read with ``inspect``) by a notice;
- :class:`SanitizeForHtml` (``HTMLExporter.preprocessors``: feedback and the Formgrader) shows
  Markdown that could run script as text: nbgrader's templates render Markdown cells without
  ``HTMLExporter.sanitize_html``, which cleans outputs only.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_locked, is_solution
from traitlets import Bool, Integer, Unicode

from course_grading import sandbox
from course_grading.referee import KEY_BYTES
from course_grading.refereeing import (
    ANSWER,
    RUN,
    TEST,
    Referee,
    answer_names,
    cell_kind,
    modules_used,
    seal_cell,
)
from course_grading.sandbox import KERNEL_NAME, KERNELS_DIR, REFEREE_KEY, KernelLimits

__all__ = ["GuardedExecute", "HideHiddenTestTracebacks", "RemoveQuotedHiddenTests",
           "SanitizeForHtml", "ScoreByErrorOnly", "StderrToStdout", "TruncateOutputs"]

TRUNCATED = "\n... [output truncated by the grader: {n:,} characters in all] ...\n"


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute in the sandboxed kernel, with a time limit for the whole notebook."""

    notebook_timeout = Integer(
        600, help="Seconds for the whole notebook; cells after it are not run (0 points)."
    ).tag(config=True)
    sandbox = Bool(
        True, help="Run the course-sandbox kernel (course_grading.sandbox) whatever the notebook "
                   "asks for. False: the notebook's own kernel, no limits (for comparisons)."
    ).tag(config=True)
    memory_limit_mb = Integer(
        4096, help="Memory of the whole kernel, and address space of each of its processes (MiB)."
    ).tag(config=True)
    cpu_limit_seconds = Integer(
        0, help="CPU-time limit of the kernel (s); 0: twice notebook_timeout."
    ).tag(config=True)
    file_limit_mb = Integer(
        256, help="What the kernel may write in all (its /tmp), and its largest file (MiB)."
    ).tag(config=True)
    process_limit = Integer(512, help="Processes and threads of the whole kernel.").tag(
        config=True)

    # nbclient skips cells with this tag; the pre-flight check drops every submitted tag, and
    # no tag skips a cell here either
    skip_cells_with_tag = Unicode("course-grading: no cell is skipped")

    def create_kernel_manager(self) -> Any:
        if not self.sandbox:
            return super().create_kernel_manager()
        self.kernel_name = KERNEL_NAME  # also what overrides a changed kernelspec
        specs = KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)], ensure_native_kernel=False)
        # the kernel has no network: it talks over Unix sockets in a folder of its own, which
        # the sandbox binds in (and no other kernel sees)
        self._socket_dir = tempfile.mkdtemp(prefix="course-kernel-")
        self.km = self.kernel_manager_class(
            kernel_name=KERNEL_NAME, config=self.config, kernel_spec_manager=specs,
            transport="ipc", connection_file=os.path.join(self._socket_dir, "kernel.json"),
        )
        return self.km

    def kernel_limits(self) -> KernelLimits:
        """The limits handed to the sandbox launcher."""
        cpu = self.cpu_limit_seconds or 2 * self.notebook_timeout
        return KernelLimits(self.memory_limit_mb, cpu, self.file_limit_mb, self.process_limit)

    def start_new_kernel(self, **kwargs: Any) -> None:
        if self.sandbox:
            key = os.urandom(KEY_BYTES)  # the referee's, handed to the launcher only
            kwargs.setdefault("env", {**os.environ, **self.kernel_limits().to_env(),
                                      REFEREE_KEY: key.hex()})
            self._referee = Referee(key, self._answers)
        super().start_new_kernel(**kwargs)
        self._launcher = getattr(self.km.provisioner, "pid", None) if self.sandbox else None

    def _assignment_answers(self, resources: Any) -> set[str] | None:
        """The names the answer cells of the assignment's own notebook bind (see Referee)."""
        info = (resources or {}).get("nbgrader", {})
        if not info.get("assignment") or not info.get("notebook"):
            return None
        course = CourseDirectory(config=self.config)
        folder = Path(course.format_path(course.source_directory, ".", info["assignment"]))
        return answer_names(folder / f"{info['notebook']}.ipynb")

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + self.notebook_timeout
        self._stopped = ""  # why the remaining cells are not run
        self._launcher: int | None = None
        self._socket_dir = ""
        self._referee: Referee | None = None
        self._answers = self._assignment_answers(resources)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self.timeout = self._cell_timeout
            self._after_kernel()

    def _after_kernel(self) -> None:
        """Nothing of the kernel may outlive it: check its control groups, remove its sockets."""
        if self._launcher is not None:
            left = sandbox.leftovers(self._launcher)
            if left:
                self.log.error("%d processes of the kernel outlived it; killed", len(left))
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type != "code":
            return cell, resources
        remaining = self._deadline - time.monotonic()
        if not self._stopped and remaining <= 0:
            self._stopped = f"the notebook time limit ({self.notebook_timeout} s) was reached"
        if self._stopped:
            cell.outputs = [_error("NotRun", f"not run: {self._stopped}")] if is_grade(cell) \
                else []
            return cell, resources
        self.timeout = max(1, int(min(self._cell_timeout or remaining, remaining)))
        try:
            self._check_assign_resources(resources)
            return self._execute(cell, index), self.resources
        except DeadKernelError:
            self._stopped = "the kernel died (crash, exit, or a resource limit) in an earlier cell"
            cell.outputs.append(_error("DeadKernelError", "the kernel died while running this "
                                       "cell (crash, exit, or a memory/CPU limit)"))
        except CellTimeoutError:
            self._stopped = "the kernel stopped responding in an earlier cell"
            cell.outputs.append(_error("CellTimeoutError", f"no reply within {self.timeout} s "
                                       "and the kernel could not be interrupted"))
        return cell, resources


    def _execute(self, cell: NotebookNode, index: int) -> NotebookNode:
        """Run one cell: an answer as IPython runs it, the assignment's own cells through the
        referee (a sealed request in place of their code, never kept in the input history)."""
        kind = cell_kind(cell)
        referee = self._referee
        if referee is None:  # no sandbox: the notebook's own kernel, as nbgrader runs it
            return self.execute_cell(cell, index, store_history=kind != TEST)
        if kind == RUN and not referee.sealed:  # no student code has run: IPython is intact
            referee.before_seal(cell)
            return self.execute_cell(cell, index, store_history=True)
        if not referee.sealed:  # before any of the submission's code runs
            code, nonce = referee.seal(modules_used(
                [c for c in self.nb.cells if c.cell_type == "code" and cell_kind(c) != ANSWER]))
            scratch = seal_cell(code)
            self.execute_cell(scratch, index, store_history=False)
            if referee.verdict(scratch.outputs, nonce)[0] is None:
                self.log.warning("the kernel's referee did not confirm the seal")
        if kind == ANSWER:
            return self.execute_cell(cell, index, store_history=True)
        source = cell.source
        cell.source, nonce = referee.request(cell, kind)
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            cell.source = source
        referee.judge(cell, kind, nonce)
        return cell


class StderrToStdout(NbGraderPreprocessor):
    """Stderr in a grade cell becomes stdout, so that it cannot zero the cell's points."""

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


def truncate_output(output: NotebookNode, max_chars: int) -> NotebookNode:
    """Cap one output: text keeps its head and a marker; other data is replaced by a marker."""
    def cut(text: str) -> str:
        return text if len(text) <= max_chars else text[:max_chars] + TRUNCATED.format(
            n=len(text))

    if output.output_type == "stream":
        output.text = cut(output.text if isinstance(output.text, str) else "".join(output.text))
    elif output.output_type == "error":
        lines, total = [], 0
        for line in output.traceback:
            total += len(line)
            if total > max_chars:
                lines.append(TRUNCATED.format(n=sum(len(x) for x in output.traceback)))
                break
            lines.append(line)
        output.traceback = lines
        output.evalue = cut(output.evalue)
    elif output.output_type in ("display_data", "execute_result"):
        data = output.get("data", {})
        for mime, value in list(data.items()):
            text = value if isinstance(value, str) else "".join(value) \
                if isinstance(value, list) else str(value)
            if len(text) <= max_chars:
                continue
            if mime == "text/plain":
                data[mime] = cut(text)
            else:
                del data[mime]
                data.setdefault("text/plain", "")
                data["text/plain"] += f"\n[{mime} output of {len(text):,} characters removed " \
                                      "by the grader]"
    return output


class TruncateOutputs(NbGraderPreprocessor):
    """Cap each output of each code cell at ``max_chars`` characters (with a marker)."""

    max_chars = Integer(100_000, help="Largest output kept whole (characters).").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code":
            cell.outputs = [truncate_output(o, self.max_chars) for o in cell.outputs]
        return cell, resources


class HideHiddenTestTracebacks(NbGraderPreprocessor):
    """In feedback, a grade cell's error shows only its last line, not quoted test source."""

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}",
                                        "(details hidden: the failing check may be a hidden test)"]
        return cell, resources


class ScoreByErrorOnly(NbGraderPreprocessor):
    """A test cell's score depends only on whether it has an error output: an
    ``execute_result`` becomes ``display_data`` (nbgrader reads it as a partial score)."""

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            for i, output in enumerate(cell.outputs):
                if output.output_type == "execute_result":
                    cell.outputs[i] = NotebookNode(output_type="display_data",
                                                   data=output.get("data", {}),
                                                   metadata=output.get("metadata", {}))
                elif output.output_type == "stream" and output.get("name") != "stdout":
                    output.name = "stdout"  # nbgrader fails a cell with any stderr
        return cell, resources


# What a page may show of a learner's Markdown: the tags Markdown makes, no event handlers,
# links only to the web, and none of the TeX macros by which MathJax makes links or styles.
SAFE_TAGS = frozenset("a abbr b blockquote br code dd del div dl dt em h1 h2 h3 h4 h5 h6 hr i img "
                      "kbd li ol p pre s span strong sub sup table tbody td tfoot th thead tr "
                      "ul".split())
SAFE_ATTRIBUTES = frozenset("class id title alt href src width height align colspan rowspan "
                            "start".split())
SAFE_SCHEMES = ("http", "https", "mailto")
MATHJAX_LINKS = re.compile(r"\\(href|url|class|cssId|style|html|data|unicode|require)(?![A-Za-z])")
SHOWN_AS_TEXT = "*[shown as text by the grader: it held HTML or links that could run in this page]*"


def _safe_attribute(name: str, value: str | None) -> bool:
    if name not in SAFE_ATTRIBUTES:
        return False
    if name not in ("href", "src"):
        return True
    url = re.sub(r"[\x00-\x20\x7f-\x9f]+", "", value or "").lower()  # what browsers ignore
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", url)
    return not scheme or scheme[1] in SAFE_SCHEMES or (name == "src" and url.startswith(
        "data:image/"))


class _HtmlCheck(HTMLParser):
    """Finds anything outside the allow-list (tags, attributes, URLs, comments, stray ``<``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.unsafe = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.unsafe |= tag not in SAFE_TAGS or not all(_safe_attribute(*a) for a in attrs)

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self.unsafe |= tag not in SAFE_TAGS

    def handle_data(self, data: str) -> None:
        self.unsafe |= "<" in data
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.unsafe = True

    handle_decl = handle_pi = unknown_decl = handle_comment


def markdown_is_safe(cell: NotebookNode) -> bool:
    """Whether the cell's Markdown, rendered as nbconvert renders it, is inert HTML."""
    try:
        renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}))
        check = _HtmlCheck()
        check.feed(MarkdownWithMath(renderer=renderer).render(cell.source))
        check.close()
    except Exception:  # what cannot be rendered here is shown as text
        return False
    return not check.unsafe and not MATHJAX_LINKS.search("".join(check.text))


def as_code_block(source: str) -> str:
    """Markdown that shows ``source`` verbatim: a fence longer than any backtick run in it."""
    fence = "`" * max(3, 1 + max(map(len, re.findall(r"`+", source)), default=0))
    return f"{SHOWN_AS_TEXT}\n\n{fence}\n{source}\n{fence}\n"


def _is_code_block(source: str) -> bool:
    """Whether ``source`` is exactly what :func:`as_code_block` makes (so it runs once)."""
    match = re.fullmatch(re.escape(SHOWN_AS_TEXT) + r"\n\n(`{3,})\n(.*)\n\1\n", source,
                         flags=re.DOTALL)
    return bool(match) and as_code_block(match[2]) == source


class SanitizeForHtml(Preprocessor):
    """Markdown that could run in nbgrader's pages becomes a code block; rich outputs with TeX
    that MathJax turns into links are dropped (``HTMLExporter.sanitize_html`` does the rest)."""

    enabled = Bool(True).tag(config=True)  # an nbconvert step: the Formgrader runs it too

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if cell.cell_type == "markdown" and not _is_code_block(cell.source) \
                and not markdown_is_safe(cell):
            cell.source = as_code_block(cell.source)
            cell.pop("attachments", None)
        for output in cell.get("outputs", []):
            data = output.get("data") if isinstance(output, dict) else None
            for mime in [m for m in data if m != "text/plain" and not m.startswith("image/")] \
                    if isinstance(data, dict) else []:
                if MATHJAX_LINKS.search(html.unescape(str(data[mime]))):
                    del data[mime]
                    data.setdefault("text/plain", f"[{mime} output removed by the grader]")
        return cell, resources


QUOTED_TEST = "[output removed by the grader: it quoted a hidden test]\n"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)


def _squash(text: str) -> str:
    return " ".join(text.split())


def hidden_test_lines(sources: list[str], min_chars: int = 12) -> set[str]:
    """The lines of ``sources`` between hidden-test markers (whitespace collapsed) longer than
    ``min_chars`` that appear nowhere outside them."""
    hidden, visible = set(), set()
    for source in sources:
        inside = False
        for line in source.splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                inside = "BEGIN HIDDEN TESTS" in line
                continue
            (hidden if inside else visible).add(_squash(line))
    return {line for line in hidden - visible if len(line) > min_chars}


def _unescape(text: str) -> str:
    """Undo what ``repr`` and JSON do to a line (``\\n``, ``\\'``, ``\\u00d7``)."""
    def one(match: re.Match) -> str:
        code = match[1]
        if len(code) > 1:
            return chr(int(code[1:], 16))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(code, code)
    return _ESCAPE.sub(one, text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def quotes_hidden_test(output: NotebookNode, lines: set[str]) -> bool:
    """Whether any text of ``output`` holds one of ``lines`` (also as repr, JSON or HTML)."""
    text = _ANSI.sub("", "\n".join(_strings(dict(output))))
    once = _unescape(text)
    views = {_squash(v) for v in (text, html.unescape(text), once, _unescape(once))}
    return any(line in view for view in views for line in lines)


class RemoveQuotedHiddenTests(NbGraderPreprocessor):
    """In feedback, an output that quotes a line of a hidden test (but not of the learner's own
    code) is replaced by a notice; an output that cannot be checked is hidden too."""

    min_chars = Integer(12, help="Hidden-test lines this long or shorter are not looked for.").tag(
        config=True)
    _lines: set[str] | None = set()  # None: not known, every output is hidden

    def preprocess(self, nb: NotebookNode, resources: Any) -> Any:
        try:
            self._lines = self.hidden_lines(nb, resources)
        except Exception as error:
            self.log.error("outputs hidden from feedback: hidden tests not known (%s)", error)
            self._lines = None
        return super().preprocess(nb, resources)

    def hidden_lines(self, nb: NotebookNode, resources: Any) -> set[str]:
        """From the gradebook's source cells and the notebook's test cells (before
        ClearHiddenTests); less the lines of the learner's own cells."""
        sources = [c.source for c in nb.cells if is_locked(c)]  # tests restored by nbgrader
        try:
            info = resources["nbgrader"]
            with Gradebook(info["db_url"]) as gradebook:
                notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
                sources += [cell.source for cell in notebook.source_cells]
        except Exception as error:  # the notebook's own test cells remain
            self.log.warning("hidden tests not read from the gradebook: %s", error)
        own = {_squash(line) for c in nb.cells if not is_locked(c)
               for line in str(c.get("source", "")).splitlines()}
        return hidden_test_lines([s for s in sources if isinstance(s, str)], self.min_chars) - own

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int) -> Any:
        if self._lines != set() and isinstance(cell.get("outputs"), list):
            for i, output in enumerate(cell.outputs):
                try:
                    quoted = self._lines is None or quotes_hidden_test(output, self._lines)
                except Exception:  # fail closed: hide it
                    quoted = True
                if quoted:
                    cell.outputs[i] = new_output("stream", name="stdout", text=QUOTED_TEST)
        return cell, resources
