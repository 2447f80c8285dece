"""The built book as a reader sees it, in a real browser (Debian's Chromium via Playwright).

Every page of the table of contents is opened once in light mode and once in dark mode; the tests
then check what those visits saw, including axe-core's accessibility rules (from npm) and the page
at a phone's width. Screenshots of every page, light and dark, 1280 and 390 px wide, are saved
under _build/screenshots/ for a human look: the first screen of each page, or the whole page with
COURSE_FULL_SCREENSHOTS=1 (slower).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.support import REPO, toc_files

pytestmark = pytest.mark.slow
PAGES = toc_files()
SCREENSHOTS = REPO / "_build" / "screenshots"
FULL_PAGE = os.environ.get("COURSE_FULL_SCREENSHOTS") == "1"
PHONE = {"width": 390, "height": 844}
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"  # `make setup` runs npm ci
SEARCH_TERM = "backpropagation"
SEARCH_TARGET = "book/01-concepts"


@dataclass
class Visit:
    """What the browser saw on one page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions
    failed_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    dark_figure_corners: list[list[int]] = field(default_factory=list)
    phone_width: int = 0
    maths_typeset: bool = False
    maths_errors: list[str] = field(default_factory=list)
    wide_maths: list[str] = field(default_factory=list)
    phone_maths_without_scroll_cue: list[str] = field(default_factory=list)
    phone_inline_maths_cut_off: list[str] = field(default_factory=list)
    icon_font_loaded: bool = False
    axe_violations: list[str] = field(default_factory=list)
    axe_dark_violations: list[str] = field(default_factory=list)


IMAGES_JS = """() => [...document.querySelectorAll('article img')].map(img => ({
    src: img.currentSrc, alt: img.alt, complete: img.complete, width: img.naturalWidth}))"""
LINKS_JS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
# Figures load lazily (course_authoring/book_html/figures.py): load them all before looking at them.
LOAD_FIGURES_JS = """() => document.querySelectorAll('img[loading="lazy"]')
    .forEach(img => { img.loading = 'eager'; })"""
FIGURES_LOADED_JS = "() => [...document.querySelectorAll('article img')].every(img => img.complete)"
# Every formula was typeset when the book was built, and KaTeX's fonts draw it: no maths script.
MATHS_TYPESET_JS = """() => [...document.querySelectorAll('.math')].every(
    element => element.querySelector('.katex .katex-html')) &&
    (!document.querySelector('.math') || [...document.fonts].some(
        font => font.family.replaceAll('"', '') === 'KaTeX_Main' && font.status === 'loaded'))"""
MATHS_ERRORS_JS = """() => [...document.querySelectorAll('.katex-error, .math')]
    .filter(element => element.matches('.katex-error') || !element.querySelector('.katex'))
    .map(element => element.textContent.slice(0, 80))"""
FORMULA_TEX = "(block.querySelector('annotation') || block).textContent.slice(0, 60)"
# Display formulas wider than the text column (they would make the reader scroll inside them).
WIDE_MATHS_JS = f"""() => [...document.querySelectorAll('div.math')]
    .filter(block => block.scrollWidth > block.clientWidth + 1)
    .map(block => `${{block.scrollWidth}} px in ${{block.clientWidth}} px: ` + {FORMULA_TEX})"""
# On a phone: a display formula wider than the column scrolls inside its box, with the shadow
# that says it continues, and takes the keyboard focus (so that a keyboard can scroll it); an
# inline formula stays inside the column (the theme used to clip it).
PHONE_WIDE_MATHS_JS = f"""() => [...document.querySelectorAll('div.math')]
    .filter(block => block.scrollWidth > block.clientWidth + 1)
    .filter(block => {{
        const style = getComputedStyle(block);
        return !['auto', 'scroll'].includes(style.overflowX) || block.tabIndex !== 0 ||
               (style.backgroundImage.match(/gradient/g) || []).length < 4;
    }})
    .map(block => {FORMULA_TEX})"""
INLINE_MATHS_CUT_OFF_JS = f"""() => [...document.querySelectorAll('span.math')]
    .filter(block => {{
        const column = (block.closest('article, nav') || document.body).getBoundingClientRect();
        const clips = getComputedStyle(block).overflowX !== 'visible';
        return (clips && block.scrollWidth > block.clientWidth + 1) ||
            [...block.querySelector('.katex-html').getClientRects()]
                .some(box => box.left < column.left - 1 || box.right > column.right + 1);
    }})
    .map(block => {FORMULA_TEX})"""
# The theme's icons are letters of the Font Awesome font its CSS loads (no fontawesome.js).
ICON_FONT_JS = """() => [...document.fonts].some(font =>
    font.family.replaceAll('"', '') === 'Font Awesome 6 Free' && font.status === 'loaded')"""
# Top-left pixel of every figure, drawn onto a canvas: RGBA.
CORNERS_JS = """() => [...document.querySelectorAll('article img')].map(img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    return Array.from(context.getImageData(2, 2, 1, 1).data);
})"""
# axe-core's serious and critical violations, one line each. label-content-name-mismatch is one of
# axe's experimental rules, off unless named; preload (stylesheets fetched again, for a rule about
# screen orientation) is off: it asks for the theme's imported CSS at the wrong address.
AXE_RUN_JS = """async ([skipCode, only]) => {
    const context = skipCode ? {exclude: [['.highlight']]} : document;
    const options = {resultTypes: ['violations'], preload: false,
                     rules: {'label-content-name-mismatch': {enabled: true}}};
    if (only) options.runOnly = {type: 'rule', values: only};
    const result = await axe.run(context, options);
    return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => `${v.id} (${v.impact}) on ${v.nodes.length}: ` +
                  v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""
# In dark mode only the colours change: there axe checks only the rules about colour.
AXE_DARK_RULES = ["color-contrast", "link-in-text-block"]
# Code cells (.highlight) take the theme's Pygments colours, the same on every page, and their
# many coloured words take most of axe's time: it checks them on the page with the most code.
CODE_PAGE = "book/06-regularization"


def watch_errors(page, visit: Visit) -> None:
    """Collect the page's console errors and uncaught exceptions into ``visit``."""
    errors, uncaught = visit.console_errors, visit.page_errors
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: uncaught.append(str(error)))


def run_axe(page, name: str, axe_script: str | None, only: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical violations on page ``name``; none without axe-core."""
    if axe_script is None:
        return []
    page.evaluate(axe_script)
    return page.evaluate(AXE_RUN_JS, [name != CODE_PAGE, only])


def wait_for(page, condition_js: str, timeout_ms: int = 15_000) -> bool:
    """Whether ``condition_js`` becomes true on ``page`` within the timeout."""
    try:
        page.wait_for_function(condition_js, timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


@pytest.fixture(scope="module")
def axe_script() -> str | None:
    """axe-core's source, from node_modules (``make setup``); None outside CI without it."""
    if AXE_SCRIPT.is_file():
        return AXE_SCRIPT.read_text()
    if os.environ.get("CI"):
        pytest.fail("axe-core is missing: `make setup` installs it from package-lock.json")
    return None


@pytest.fixture(scope="module")
def visits(browser, book_url, axe_script) -> dict[str, Visit]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen: dict[str, Visit] = {}
    for name in PAGES:
        visit = seen[name] = Visit()
        slug = name.replace("/", "__")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        watch_errors(page, visit)
        failed = visit.failed_requests
        page.on("requestfailed", lambda r, f=failed: f.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r, f=failed: r.status >= 400 and f.append(f"{r.url} {r.status}"))
        page.goto(f"{book_url}/{name}.html", wait_until="networkidle")
        page.evaluate(LOAD_FIGURES_JS)
        wait_for(page, FIGURES_LOADED_JS)
        visit.images = page.evaluate(IMAGES_JS)
        visit.links = page.evaluate(LINKS_JS)
        visit.icon_font_loaded = page.evaluate(ICON_FONT_JS)
        visit.maths_typeset = wait_for(page, MATHS_TYPESET_JS)
        visit.maths_errors = page.evaluate(MATHS_ERRORS_JS)
        visit.wide_maths = page.evaluate(WIDE_MATHS_JS)
        page.screenshot(path=SCREENSHOTS / f"{slug}.png", full_page=FULL_PAGE)
        visit.axe_violations = run_axe(page, name, axe_script)
        # the same page on a phone: the layout follows the viewport, no second visit needed
        page.set_viewport_size(PHONE)
        visit.phone_width = page.evaluate("document.documentElement.scrollWidth")
        visit.phone_maths_without_scroll_cue = page.evaluate(PHONE_WIDE_MATHS_JS)
        visit.phone_inline_maths_cut_off = page.evaluate(INLINE_MATHS_CUT_OFF_JS)
        page.screenshot(path=SCREENSHOTS / f"{slug}--phone.png", full_page=FULL_PAGE)
        page.close()
        # A reader whose system is in dark mode: the theme follows prefers-color-scheme.
        dark = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme="dark")
        watch_errors(dark, visit)
        dark.goto(f"{book_url}/{name}.html", wait_until="networkidle")
        # the theme's script settles data-theme after load; on a busy machine that can lag
        dark.wait_for_function("document.documentElement.dataset.theme === 'dark'", timeout=15_000)
        dark.evaluate(LOAD_FIGURES_JS)
        wait_for(dark, FIGURES_LOADED_JS)
        visit.dark_figure_corners = dark.evaluate(CORNERS_JS)
        dark.screenshot(path=SCREENSHOTS / f"{slug}--dark.png", full_page=FULL_PAGE)
        visit.axe_dark_violations = run_axe(dark, name, axe_script, AXE_DARK_RULES)
        dark.set_viewport_size(PHONE)
        dark.screenshot(path=SCREENSHOTS / f"{slug}--phone--dark.png", full_page=FULL_PAGE)
        dark.close()
    return seen


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_console_errors(visits, name: str) -> None:
    assert visits[name].console_errors == []


@pytest.mark.parametrize("name", PAGES)
def test_page_raises_no_javascript_exception(visits, name: str) -> None:
    assert visits[name].page_errors == []


@pytest.mark.parametrize("name", PAGES)
def test_maths_is_typeset(visits, name: str) -> None:
    assert visits[name].maths_typeset


@pytest.mark.parametrize("name", PAGES)
def test_maths_has_no_typesetting_error(visits, name: str) -> None:
    assert visits[name].maths_errors == []


@pytest.mark.parametrize("name", PAGES)
def test_display_maths_fits_the_text_column(visits, name: str) -> None:
    """At 1280 px, every displayed formula fits the column (a phone may scroll inside it)."""
    assert visits[name].wide_maths == []


@pytest.mark.parametrize("name", PAGES)
def test_on_a_phone_a_wide_formula_scrolls_in_its_box_with_a_cue_and_takes_focus(visits, name):
    assert visits[name].phone_maths_without_scroll_cue == []


@pytest.mark.parametrize("name", PAGES)
def test_on_a_phone_no_inline_formula_is_cut_off_at_the_column(visits, name: str) -> None:
    assert visits[name].phone_inline_maths_cut_off == []


@pytest.mark.parametrize("name", PAGES)
def test_theme_icons_are_drawn_with_the_icon_font(visits, name: str) -> None:
    assert visits[name].icon_font_loaded


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone_screen(visits, name: str) -> None:
    """Nothing makes the page scroll sideways on a 390-px phone (wide code scrolls in its box)."""
    assert visits[name].phone_width <= PHONE["width"]


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_violation(visits, axe_script, name: str) -> None:
    if axe_script is None:
        pytest.skip("axe-core not installed (make setup)")
    assert visits[name].axe_violations == []


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_violation_in_dark_mode(visits, axe_script, name: str) -> None:
    if axe_script is None:
        pytest.skip("axe-core not installed (make setup)")
    assert visits[name].axe_dark_violations == []


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_failed_requests(visits, name: str) -> None:
    assert visits[name].failed_requests == []


@pytest.mark.parametrize("name", PAGES)
def test_every_image_loaded(visits, name: str) -> None:
    broken = [i["src"] for i in visits[name].images if not (i["complete"] and i["width"] > 0)]
    assert broken == []


def test_lesson_figures_are_shown(visits) -> None:
    assert len(visits["book/01-concepts"].images) >= 3


@pytest.mark.parametrize("name", PAGES)
def test_every_figure_has_descriptive_alt_text(visits, name: str) -> None:
    for image in visits[name].images:
        alt = image["alt"].strip()
        assert len(alt) > 15 and not alt.endswith(".png"), f"{image['src']}: alt={alt!r}"


@pytest.mark.parametrize("name", PAGES)
def test_figures_stay_readable_in_dark_mode(visits, name: str) -> None:
    """Figures keep an opaque light background, so black axis labels stay legible."""
    for red, green, blue, alpha in visits[name].dark_figure_corners:
        assert alpha == 255 and min(red, green, blue) > 200


def test_every_internal_link_resolves(visits, browser, book_url) -> None:
    targets = {link for visit in visits.values() for link in visit.links
               if link.startswith(book_url)}
    assert targets
    page = browser.new_page()
    bodies: dict[str, str] = {}
    broken = []
    for link in sorted(targets):
        url, fragment = urldefrag(link)
        if url not in bodies:
            response = page.request.get(url)
            bodies[url] = response.text() if response.ok else ""
            if not response.ok:
                broken.append(f"{link}: HTTP {response.status}")
                continue
        if fragment and not re.search(rf'id="{re.escape(fragment)}"', bodies[url]):
            broken.append(f"{link}: no element with id {fragment!r}")
    page.close()
    assert broken == []


def test_search_finds_a_term_from_a_chapter(browser, book_url) -> None:
    """From another chapter's page, as a reader does: Ctrl+K, the term, Enter."""
    page = browser.new_page()
    page.goto(f"{book_url}/book/04-baseline-mlp.html", wait_until="networkidle")
    page.keyboard.press("Control+k")
    page.keyboard.type(SEARCH_TERM)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search.html?q=*")
    page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    page.close()
    assert any(urlparse(hit).path.endswith(f"{SEARCH_TARGET}.html") for hit in hits), hits


@pytest.mark.parametrize("lesson", [p for p in PAGES if re.match(r"book/\d\d-", p)])
def test_lesson_links_to_its_exercise_and_the_link_opens_it(browser, book_url, lesson) -> None:
    slug = lesson.split("/")[1]
    if not (REPO / "notebooks" / slug).is_dir():
        pytest.skip(f"{slug} has no exercise")
    page = browser.new_page()
    page.goto(f"{book_url}/{lesson}.html")
    page.locator(f'article a[href$="notebooks/{slug}/{slug}.html"]').first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/notebooks/{slug}/{slug}.html")
    page.close()


@pytest.mark.parametrize("exercise", [p for p in PAGES if p.startswith("notebooks/")])
def test_exercise_page_offers_its_notebook_for_download(browser, book_url, exercise) -> None:
    page = browser.new_page()
    page.goto(f"{book_url}/{exercise}.html")
    hrefs = [href for href in page.eval_on_selector_all('a[href$=".ipynb"]',
                                                        "as => as.map(a => a.href)")
             if href.startswith(book_url)]  # not the launch buttons' Colab and Binder links
    assert hrefs, "no download link to the .ipynb"
    response = page.request.get(urljoin(page.url, hrefs[0]))
    assert response.ok and '"nbformat"' in response.text()
    page.close()


@pytest.mark.parametrize("exercise", [p for p in PAGES if p.startswith("notebooks/")])
def test_exercise_page_ends_with_a_closed_worked_solution_without_hidden_tests(
        browser, book_url, exercise) -> None:
    slug = exercise.split("/")[1]
    solution = nbformat.read(REPO / "solutions" / slug / f"{slug}.ipynb", as_version=4)
    hidden = [cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS")[0]
              for cell in solution.cells if "### BEGIN HIDDEN TESTS" in cell.source]
    page = browser.new_page()
    page.goto(f"{book_url}/{exercise}.html")
    details = page.locator("article details.worked-solution")
    assert details.count() == 1
    assert details.get_attribute("open") is None  # closed until the learner opens it
    assert not details.locator("pre").first.is_visible()
    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    assert details.locator("pre").first.is_visible()
    shown = details.inner_text()
    page.close()
    first_answer = next(cell for cell in solution.cells
                        if cell.metadata.get("nbgrader", {}).get("solution"))
    solved_line = next(line for line in first_answer.source.splitlines()
                       if line.strip() and "SOLUTION" not in line and "def " not in line
                       and not line.strip().startswith(('"""', "#")))
    assert solved_line.strip() in shown  # the solution's code, not the stub
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "raise NotImplementedError"):
        assert marker not in shown
    answers = "\n".join(cell.source for cell in solution.cells
                        if cell.metadata.get("nbgrader", {}).get("solution"))
    for test_code in hidden:  # no line of a hidden test is shown (unless an answer has it too)
        lines = [line.strip() for line in test_code.splitlines()
                 if len(line.strip()) > 25 and line.strip() not in answers]
        assert lines and not any(line in shown for line in lines)


SIDEBAR_PAGE = "book/04-baseline-mlp"
DIALOG_OPEN_JS = "id => document.getElementById(id).open"


def test_a_phone_opens_the_chapter_list_by_tap_and_follows_a_link_in_it(browser, book_url) -> None:
    page = browser.new_page(viewport=PHONE, has_touch=True)
    try:
        page.goto(f"{book_url}/{SIDEBAR_PAGE}.html", wait_until="load")
        assert page.evaluate("() => document.querySelectorAll('.primary-toggle').length") == 1
        page.locator(".primary-toggle").tap()
        page.wait_for_function(DIALOG_OPEN_JS, arg="pst-primary-sidebar-modal", timeout=5_000)
        link = page.locator("#pst-primary-sidebar-modal a[href*='05-evaluation']").first
        assert link.is_visible()
        link.tap()
        page.wait_for_url(re.compile(r".*/book/05-evaluation\.html"), timeout=10_000)
    finally:
        page.close()


@pytest.mark.parametrize(("toggle", "dialog"), [
    (".primary-toggle", "pst-primary-sidebar-modal"),
    (".secondary-toggle", "pst-secondary-sidebar-modal")])
def test_a_phone_opens_and_closes_each_sidebar_from_the_keyboard(browser, book_url, toggle,
                                                                  dialog) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{book_url}/{SIDEBAR_PAGE}.html", wait_until="load")
        page.locator(toggle).focus()
        page.keyboard.press("Enter")
        page.wait_for_function(DIALOG_OPEN_JS, arg=dialog, timeout=5_000)
        page.keyboard.press("Escape")
        page.wait_for_function(f"id => !({DIALOG_OPEN_JS.split('=> ')[1]})", arg=dialog,
                               timeout=5_000)
    finally:
        page.close()


def test_on_a_wide_screen_the_toggle_hides_and_shows_the_chapter_list(browser, book_url) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    visibility = "() => getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility"
    try:
        page.goto(f"{book_url}/{SIDEBAR_PAGE}.html", wait_until="load")
        assert page.evaluate(visibility) == "visible"
        page.locator(".primary-toggle").click()
        page.wait_for_function(f"() => ({visibility})() === 'hidden'", timeout=5_000)
        page.locator(".primary-toggle").click()
        page.wait_for_function(f"() => ({visibility})() === 'visible'", timeout=5_000)
        assert not page.evaluate(DIALOG_OPEN_JS, "pst-primary-sidebar-modal")
    finally:
        page.close()


FOCUSED_CONTROL_JS = """() => {
    const element = document.activeElement;
    if (!element.closest('.bd-header, .bd-header-article')) return null;
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const ring = /rgba?\\((?!0, 0, 0, 0\\))[^)]*\\) 0px 0px 0px [1-9]/.test(style.boxShadow);
    return {name: element.getAttribute('aria-label') || element.title || element.textContent.trim(),
            visible: outline || ring};
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_header_control_shows_where_the_keyboard_focus_is(browser, book_url,
                                                                scheme) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        page.goto(f"{book_url}/{SIDEBAR_PAGE}.html", wait_until="load")
        page.focus(".bd-header-article .primary-toggle")  # the article header, in tab order
        page.keyboard.press("Shift+Tab")
        seen = {}
        for _ in range(12):
            page.keyboard.press("Tab")
            control = page.evaluate(FOCUSED_CONTROL_JS)
            if control:
                seen[control["name"]] = control["visible"]
        assert {"Toggle primary sidebar", "Launch interactive content",
                "Download this page"} <= set(seen), seen
        assert all(seen.values()), f"no visible focus on {[n for n, v in seen.items() if not v]}"
    finally:
        page.close()
