"""Session fixtures for the book tests: one build and one local web server (the browser is in
tests/conftest.py)."""

from __future__ import annotations

import fcntl
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import REPO


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Build the book once, into a scratch folder, as `make book` does; (html folder, log).

    Under pytest-xdist (`make test`) the test files of this folder may run on different workers;
    the first one to get here builds the book, the others wait for it and reuse the build.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    out, log_file = shared / "book", shared / "book-build.log"
    with open(shared / "book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not log_file.exists():
            jupyter_book = Path(sys.executable).parent / "jupyter-book"
            result = subprocess.run(
                [str(jupyter_book), "build", str(REPO), "-W", "-n", "--keep-going",
                 "--path-output", str(out)],
                capture_output=True, text=True, cwd=REPO,
            )
            log = result.stdout + result.stderr
            assert result.returncode == 0, log[-5000:]
            log_file.write_text(log)
    return out / "_build" / "html", log_file.read_text()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@pytest.fixture(scope="session")
def book_url(built_book) -> Iterator[str]:
    """The built book served over HTTP on a free loopback port."""
    html, _ = built_book
    handler = functools.partial(QuietHandler, directory=str(html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
