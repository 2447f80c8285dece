"""Formulas typeset when the book is built, with KaTeX under Node.js: no script typesets maths in
the reader's browser.

Each formula becomes KaTeX's HTML, drawn by its stylesheet and fonts (copied next to the pages,
each font cut down to the characters the book's formulas draw), followed by MathML that screen
readers read. A formula KaTeX cannot typeset is a build warning,
which ``make book`` (``-W``) turns into an error. The stylesheet is linked only from pages with
maths. ``_config.yml`` selects this renderer (``html_math_renderer: katex``) and says where npm
put KaTeX (``course_katex_dir``, relative to the book's folder).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

from course_authoring.book_html import built_site

logger = logging.getLogger(__name__)

RENDERER = "katex"
# where the stylesheet and its fonts go in the built site: outside _static/, whose every file
# Jupyter Book would add to every page
SITE_FOLDER = "katex"
STYLESHEET = "katex.min.css"

# Reads one JSON request per line ({"tex", "display"}) and answers each with one JSON line.
SERVER_JS = r"""
const katex = require("katex");
require("readline").createInterface({input: process.stdin}).on("line", (line) => {
  const request = JSON.parse(line);
  let reply;
  try {
    reply = {html: katex.renderToString(request.tex, {
      displayMode: request.display, output: "htmlAndMathml", throwOnError: true, strict: "error"})};
  } catch (error) {
    reply = {error: String(error.message)};
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
"""


# On a page with maths: a display formula wider than its box (it scrolls sideways) takes the
# keyboard focus, so that it can be scrolled without a mouse (WCAG 2.1.1); one that fits does not.
# A ResizeObserver reads the widths after the browser's own layout instead of forcing one.
SCROLLABLE_FORMULAS_JS = """document.addEventListener("DOMContentLoaded", () => {
  const observer = new ResizeObserver((entries) => entries.forEach(({target}) => {
    if (target.scrollWidth > target.clientWidth + 1) target.tabIndex = 0;
    else target.removeAttribute("tabindex");
  }));
  document.querySelectorAll("div.math").forEach((block) => observer.observe(block));
});"""


class TeXError(ValueError):
    """KaTeX could not typeset a formula."""


class KaTeX:
    """A Node.js process that typesets formulas with the KaTeX package in ``katex_dir``."""

    def __init__(self, katex_dir: Path) -> None:
        self.katex_dir = katex_dir
        self.cache: dict[tuple[str, bool], str] = {}
        self._process: subprocess.Popen[str] | None = None
        self._pid = 0

    def typeset(self, tex: str, display: bool) -> str:
        """KaTeX's HTML and MathML for ``tex``; raises TeXError when KaTeX cannot typeset it."""
        key = (tex, display)
        if key not in self.cache:
            process = self._running()
            process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
            if not line:
                raise ExtensionError(f"KaTeX's Node.js process stopped while typesetting {tex!r}")
            reply = json.loads(line)
            if "error" in reply:
                raise TeXError(reply["error"])
            self.cache[key] = reply["html"]
        return self.cache[key]

    def _running(self) -> subprocess.Popen[str]:
        """This process's Node.js server (a forked Sphinx worker starts its own)."""
        if self._process is None or self._pid != os.getpid():
            node = shutil.which("node")
            if node is None or not (self.katex_dir / "package.json").is_file():
                missing = (f"KaTeX is not in {self.katex_dir}" if node
                           else "node is not on the PATH")
                raise ExtensionError(f"the book typesets its formulas with KaTeX under Node.js, "
                                     f"and {missing}: run `make setup` (it runs npm ci)")
            self._process = subprocess.Popen(
                [node, "-e", SERVER_JS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                env={**os.environ, "NODE_PATH": str(self.katex_dir.parent)})
            self._pid = os.getpid()
        return self._process

    def close(self) -> None:
        """Stop the Node.js process, if this process started one."""
        if self._process is not None and self._pid == os.getpid():
            self._process.stdin.close()
            self._process.wait(timeout=30)
        self._process = None


def display_tex(node: nodes.math_block) -> str:
    """The TeX of a display block as one formula: paragraphs (blank-line separated) stacked, and
    ``\\`` lines aligned at ``&``, as Sphinx's MathJax renderer does."""
    if node["nowrap"]:
        return node.astext()
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    parts = [rf"\begin{{aligned}}{part}\end{{aligned}}" if r"\\" in part else part
             for part in parts]
    if len(parts) == 1:
        return parts[0]
    return r"\begin{gathered}" + r"\\".join(parts) + r"\end{gathered}"


def _typeset(translator: Any, node: nodes.Element, tex: str, display: bool) -> str:
    try:
        return translator.builder.course_katex.typeset(tex, display)
    except TeXError as error:
        logger.warning("KaTeX cannot typeset %r: %s", tex, error, location=node)
        return f'<code class="katex-error">{html.escape(tex)}</code>'


def visit_math(translator: Any, node: nodes.math) -> None:
    """An inline formula: ``<span class="math">`` around KaTeX's output."""
    translator.body.append(translator.starttag(node, "span", "",
                                               CLASS="math notranslate nohighlight"))
    translator.body.append(_typeset(translator, node, node.astext(), display=False) + "</span>")
    raise nodes.SkipNode


def visit_math_block(translator: Any, node: nodes.math_block) -> None:
    """A display formula: ``<div class="math">``, its equation number if any, KaTeX's output."""
    translator.body.append(translator.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"]:
        translator.body.append(f'<span class="eqno">({get_node_equation_number(translator, node)})')
        translator.add_permalink_ref(node, _("Link to this equation"))
        translator.body.append("</span>")
    translator.body.append(_typeset(translator, node, display_tex(node), display=True) + "</div>\n")
    raise nodes.SkipNode


def start_katex(app: Sphinx) -> None:
    """Give the HTML builder its KaTeX (started at the first formula)."""
    if getattr(app.builder, "math_renderer_name", None) == RENDERER:
        app.builder.course_katex = KaTeX(Path(app.srcdir) / app.config.course_katex_dir)


def link_stylesheet(app: Sphinx, pagename: str, templatename: str, context: dict,
                    doctree: Any) -> None:
    """Link KaTeX's stylesheet from a page whose own text has maths, and make its wide display
    formulas focusable."""
    if (getattr(app.builder, "math_renderer_name", None) == RENDERER
            and app.env.get_domain("math").data["has_equations"].get(pagename)):
        app.add_css_file(f"../{SITE_FOLDER}/{STYLESHEET}")
        app.add_js_file(None, body=SCROLLABLE_FORMULAS_JS)


class DrawnCharacters(HTMLParser):
    """The characters inside KaTeX's HTML (``class="katex-html"``) of the pages fed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.characters: set[str] = set()
        self._depth = 0  # of the open elements inside a katex-html element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth or "katex-html" in (dict(attrs).get("class") or "").split():
            self._depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <path/> opens and closes: no text, depth unchanged

    def handle_endtag(self, tag: str) -> None:
        self._depth = max(self._depth - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.characters.update(data)


def copy_stylesheet_and_fonts(app: Sphinx, exception: Exception | None) -> None:
    """Put KaTeX's stylesheet and its WOFF2 fonts (all that browsers fetch) into the site, each
    font with only the characters that the site's formulas draw, and stop the Node.js process."""
    katex = getattr(app.builder, "course_katex", None)
    if katex is None:
        return
    katex.close()
    if exception is not None:
        return
    source = katex.katex_dir / "dist"
    target = Path(app.outdir) / SITE_FOLDER
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / STYLESHEET, target / STYLESHEET)
    for font in (source / "fonts").glob("*.woff2"):
        shutil.copyfile(font, target / "fonts" / font.name)
    drawn = DrawnCharacters()
    for page in built_site.texts(Path(app.outdir), suffixes=(".html",)):
        drawn.feed(page)
        drawn.close()
        drawn.reset()
    for font in (target / "fonts").glob("*.woff2"):
        built_site.subset_font(font, map(ord, drawn.characters))


def setup(app: Sphinx) -> None:
    """Register the renderer, its setting and its handlers."""
    app.add_html_math_renderer(RENDERER, (visit_math, None), (visit_math_block, None))
    app.add_config_value("course_katex_dir", "node_modules/katex", "env", types=[str])
    app.connect("builder-inited", start_katex)
    app.connect("html-page-context", link_stylesheet)
    app.connect("build-finished", copy_stylesheet_and_fonts)
