"""The built book as a reader sees it, in a real browser (Debian's Chromium via Playwright).

Every page of the table of contents is opened once; the tests then check what that visit saw.
Screenshots of every page, light and dark, are saved under _build/screenshots/ for a human look:
the first screen of each page, or the whole page with COURSE_FULL_SCREENSHOTS=1 (slower).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from tests.book.conftest import toc_files
from tests.support import REPO

pytestmark = pytest.mark.slow
PAGES = toc_files()
SCREENSHOTS = REPO / "_build" / "screenshots"
FULL_PAGE = os.environ.get("COURSE_FULL_SCREENSHOTS") == "1"
SEARCH_TERM = "backpropagation"
SEARCH_TARGET = "book/01-concepts"


@dataclass
class Visit:
    """What the browser saw on one page."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    dark_figure_corners: list[list[int]] = field(default_factory=list)


IMAGES_JS = """() => [...document.querySelectorAll('article img')].map(img => ({
    src: img.currentSrc, alt: img.alt, complete: img.complete, width: img.naturalWidth}))"""
LINKS_JS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
# Top-left pixel of every figure, drawn onto a canvas: RGBA.
CORNERS_JS = """() => [...document.querySelectorAll('article img')].map(img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    return Array.from(context.getImageData(2, 2, 1, 1).data);
})"""


@pytest.fixture(scope="module")
def visits(browser, book_url) -> dict[str, Visit]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen: dict[str, Visit] = {}
    for name in PAGES:
        visit = seen[name] = Visit()
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors, failed = visit.console_errors, visit.failed_requests
        page.on("console", lambda m, e=errors: m.type == "error" and e.append(m.text))
        page.on("requestfailed", lambda r, f=failed: f.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r, f=failed: r.status >= 400 and f.append(f"{r.url} {r.status}"))
        page.goto(f"{book_url}/{name}.html", wait_until="networkidle")
        visit.images = page.evaluate(IMAGES_JS)
        visit.links = page.evaluate(LINKS_JS)
        slug = name.replace("/", "__")
        page.screenshot(path=SCREENSHOTS / f"{slug}.png", full_page=FULL_PAGE)
        page.close()
        # A reader whose system is in dark mode: the theme follows prefers-color-scheme.
        dark = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme="dark")
        dark.goto(f"{book_url}/{name}.html", wait_until="networkidle")
        # the theme's script settles data-theme after load; on a busy machine that can lag
        dark.wait_for_function("document.documentElement.dataset.theme === 'dark'", timeout=15_000)
        visit.dark_figure_corners = dark.evaluate(CORNERS_JS)
        dark.screenshot(path=SCREENSHOTS / f"{slug}--dark.png", full_page=FULL_PAGE)
        dark.close()
    return seen


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_console_errors(visits, name: str) -> None:
    assert visits[name].console_errors == []


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
    page = browser.new_page()
    page.goto(f"{book_url}/search.html?q={SEARCH_TERM}", wait_until="networkidle")
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
    hrefs = page.eval_on_selector_all('a[href$=".ipynb"]', "as => as.map(a => a.href)")
    assert hrefs, "no download link to the .ipynb"
    response = page.request.get(urljoin(page.url, hrefs[0]))
    assert response.ok and '"nbformat"' in response.text()
    page.close()
