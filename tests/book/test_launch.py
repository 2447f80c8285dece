"""Launch buttons: every lesson and exercise page opens its own notebook, from the repository that
_config.yml names, on Colab and Binder, and on a class's JupyterHub through nbgitpuller."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from tests.support import REPO, toc_files

pytestmark = pytest.mark.slow

CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())
NOTEBOOK_PAGES = [page for page in toc_files() if (REPO / f"{page}.ipynb").is_file()]
HUB = "https://hub.example.edu"
LAUNCH_BUTTON = 'button[aria-label="Launch interactive content"]'


def expected_links(page: str) -> dict[str, str]:
    """Where each button of ``page`` must lead, from _config.yml's one repository setting."""
    repository, launch = CONFIG["repository"], CONFIG["launch_buttons"]
    owner_and_name = urlparse(repository["url"]).path.strip("/")
    branch, notebook = repository["branch"], f"{page}.ipynb"
    return {
        "Binder": f"{launch['binderhub_url']}/v2/gh/{owner_and_name}/{branch}"
                  f"?urlpath=lab/tree/{notebook}",
        "Colab": f"{launch['colab_url']}/github/{owner_and_name}/blob/{branch}/{notebook}",
    }


def test_every_lesson_and_exercise_is_a_notebook_page() -> None:
    prose = [page for page in toc_files() if (REPO / f"{page}.md").is_file()]
    assert prose == ["book/intro", "book/using-the-course", "book/class-on-jupyterhub",
                     "book/class-on-kubernetes"], f"pages written in Markdown: {prose}"
    assert len(NOTEBOOK_PAGES) == len(toc_files()) - len(prose), "a page is neither"
    assert len(NOTEBOOK_PAGES) == 16, "eight lessons and eight exercises"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_launch_menu_opens_this_pages_notebook_on_colab_and_binder(browser, book_url, page):
    tab = browser.new_page()
    tab.goto(f"{book_url}/{page}.html")
    menu = tab.locator(".dropdown-launch-buttons")
    assert not menu.locator("a").first.is_visible()  # a menu, closed until asked
    menu.locator(LAUNCH_BUTTON).click()
    shown = {link.inner_text().strip(): link.get_attribute("href")
             for link in menu.locator("a").all() if link.is_visible()}
    tab.close()
    assert shown == expected_links(page)
    assert (REPO / f"{page}.ipynb").is_file()  # the file the buttons open is in the repository


@pytest.fixture(scope="module")
def hub_page(tmp_path_factory) -> str:
    """One exercise page built with _config.yml's launch settings and a class's hub URL."""
    source = tmp_path_factory.mktemp("hub-book")
    page = "notebooks/01-concepts/01-concepts"
    (source / page).parent.mkdir(parents=True)
    shutil.copy(REPO / f"{page}.ipynb", source / f"{page}.ipynb")
    config = {key: CONFIG[key] for key in ("title", "repository", "execute")}
    config["launch_buttons"] = {**CONFIG["launch_buttons"], "jupyterhub_url": HUB}
    (source / "_config.yml").write_text(yaml.safe_dump(config))
    (source / "_toc.yml").write_text(f"format: jb-book\nroot: {page}\n")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    # without -W: the page links to its lesson, which this one-page build lacks
    build = subprocess.run([str(jupyter_book), "build", str(source)], capture_output=True,
                           text=True)
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    return (source / "_build" / "html" / f"{page}.html").read_text()


def test_a_class_hub_gets_an_nbgitpuller_link_to_the_same_notebook(hub_page) -> None:
    href = next(part.split('"', 1)[0] for part in hub_page.split('href="')[1:]
                if part.startswith(HUB))
    url = urlparse(href.replace("&amp;", "&"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{HUB}/hub/user-redirect/git-pull"
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    repository = CONFIG["repository"]
    name = urlparse(repository["url"]).path.rstrip("/").rsplit("/", 1)[1]
    assert query == {"repo": repository["url"], "branch": repository["branch"],
                     "urlpath": f"lab/tree/{name}/notebooks/01-concepts/01-concepts.ipynb"}
