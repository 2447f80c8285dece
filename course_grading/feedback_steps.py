"""What nbgrader's pages show of a submission: feedback and the Formgrader (instructors).

Both steps are switched on in ``nbgrader_config.py``:

- :class:`SanitizeForHtml` (``HTMLExporter.preprocessors``: feedback and the Formgrader) shows
  Markdown that could run script as text: nbgrader's templates render Markdown cells without
  ``HTMLExporter.sanitize_html``, which cleans outputs only;
- :class:`RemoveQuotedHiddenTests` (``GenerateFeedback.preprocessors``) replaces every output
  that quotes a line of a hidden test (a printed input history ``In``, source read with
  ``inspect``) by a notice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_locked
from traitlets import Bool, Integer

__all__ = ["RemoveQuotedHiddenTests", "SanitizeForHtml", "as_code_block", "hidden_test_lines",
           "markdown_is_safe", "quotes_hidden_test"]


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
