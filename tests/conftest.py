"""Fixtures shared by every test folder: a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Debian's chromium package; the course never lets a tool download a browser of its own.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic",
]


def chromium_path() -> str | None:
    found = [p for p in CHROMIUM_CANDIDATES if Path(p).is_file()] or [shutil.which("chromium")]
    return found[0]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Skipped outside CI when it is not installed."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make setup` installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The longest test files and notebooks first, so that the two xdist workers of `make test`
# (`--dist loadfile --no-loadscope-reorder`) finish together: a long file started last would
# leave one worker idle. The order follows the slowest-tests report at the end of `make test`;
# files not named here keep their collection order after these.
LONGEST_FIRST = (
    "tests/grading_runs/test_roundtrip.py",
    "tests/grading_runs/test_red_team.py",
    "tests/book/test_browser.py",  # builds the book first (tests/book/conftest.py)
    "book/08-next-steps.ipynb",
    "book/07-framework-comparison.ipynb",
    "book/06-regularization.ipynb",
    "tests/grading_runs/test_adversarial.py",
    "tests/grading_runs/test_mutations.py",
    "tests/grading_runs/test_parallel_grading.py",
    "tests/grading_runs/test_class_hub.py",
    "tests/grading_runs/test_zip_collect.py",
    "book/04-baseline-mlp.ipynb",
    "book/05-evaluation.ipynb",
    "tests/lab/test_jupyterlab.py",
    "tests/benchmarks/test_benchmarks.py",
    "tests/book/test_build.py",
    "tests/book/test_launch.py",
    "book/03-data-preparation.ipynb",
    "book/01-concepts.ipynb",
    "book/02-environment.ipynb",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the test files: those in LONGEST_FIRST first, in that order (a stable sort)."""
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}

    def file_rank(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(rank))

    items.sort(key=file_rank)
