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
