"""Lighthouse scores of the built book: the intro and every lesson and exercise page.

What is measured
----------------
``make audit`` builds the book, serves ``_build/html`` on 127.0.0.1 the way a web host does
(text compressed with gzip) and runs Lighthouse (from npm, ``package.json``) in Debian's Chromium,
with its default mobile settings: a mid-range phone on a slow 4G network, simulated. Each page is
audited ``--runs`` times; the run with the median performance score is kept.

For every page the report has the four category scores (0-100), the first and largest contentful
paint and the speed index in seconds, the total blocking time, the cumulative layout shift, and
the bytes the browser transferred before the page's load event: all of them, and the page's own
HTML, its figures (``_images/``) and everything else (theme, scripts, fonts) apart.

Lighthouse on a shared machine is noisy: compare runs made under the same load.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import yaml

from course_authoring.benchmark_reports import write_report

REPO = Path(__file__).resolve().parents[1]
TOC = REPO / "_toc.yml"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
LIGHTHOUSE = REPO / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
COMPRESSED_SUFFIXES = (".html", ".css", ".js", ".svg", ".json", ".txt", ".xml")


class GzipHandler(SimpleHTTPRequestHandler):
    """Static files, text gzip-compressed when the browser accepts it, as web hosts serve them."""

    def send_head(self) -> object:
        path = Path(self.translate_path(self.path))
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts_gzip and path.is_file() and path.suffix in COMPRESSED_SUFFIXES):
            return super().send_head()
        body = gzip.compress(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Body(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


class _Body:
    """The file-like object that SimpleHTTPRequestHandler copies to the response."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return data

    def close(self) -> None:
        self.data = b""


@contextmanager
def serve(html: Path) -> Iterator[str]:
    """Serve ``html`` on a free loopback port for the duration of the block; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler,
                                                                     directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def lighthouse(url: str, chromium: str) -> dict:
    """One Lighthouse run (mobile, simulated throttling) on ``url``: the full JSON result."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as scratch:
        output = Path(scratch) / "report.json"
        subprocess.run(
            ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={output}",
             f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROMIUM_FLAGS}"],
            check=True, env={**os.environ, "CHROME_PATH": chromium},
        )
        return json.loads(output.read_text())


def audited_pages(toc: Path) -> list[str]:
    """The book's root page and every lesson (``book/NN-…``) and exercise page of ``toc``."""
    book = yaml.safe_load(toc.read_text(encoding="utf-8"))
    files = [chapter["file"] for part in book["parts"] for chapter in part["chapters"]]
    return [book["root"]] + [f for f in files if re.match(r"(book/\d\d-|notebooks/)", f)]


def bytes_before_load(result: dict, page_url: str) -> dict[str, int]:
    """Bytes transferred for requests that ended before the load event: all, and the page, its
    figures and the rest (theme, scripts, fonts) apart."""
    audits = result["audits"]
    load = audits["metrics"]["details"]["items"][0]["observedLoad"]
    counts = {"total": 0, "page": 0, "figures": 0, "assets": 0}
    for request in audits["network-requests"]["details"]["items"]:
        if request.get("networkEndTime", float("inf")) > load:
            continue
        size = request.get("transferSize", 0)
        kind = ("page" if request["url"] == page_url
                else "figures" if "/_images/" in urlparse(request["url"]).path else "assets")
        counts[kind] += size
        counts["total"] += size
    return counts


def summary(result: dict, page_url: str) -> dict:
    """The scores and timings this report keeps from one Lighthouse result."""
    audits = result["audits"]

    def seconds(audit: str) -> float:
        return round(audits[audit]["numericValue"] / 1000, 1)

    return {
        "scores": {c: round(100 * result["categories"][c]["score"]) for c in CATEGORIES},
        "first_contentful_paint_s": seconds("first-contentful-paint"),
        "largest_contentful_paint_s": seconds("largest-contentful-paint"),
        "speed_index_s": seconds("speed-index"),
        "total_blocking_time_ms": round(audits["total-blocking-time"]["numericValue"]),
        "cumulative_layout_shift": round(audits["cumulative-layout-shift"]["numericValue"], 3),
        "bytes_before_load": bytes_before_load(result, page_url),
        "lighthouse": result["lighthouseVersion"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html",
                        help="the built book (default: _build/html)")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--output", type=Path,
                        default=REPO / "benchmarks" / "lighthouse_audit.json")
    parser.add_argument("--chromium", default=shutil.which("chromium"),
                        help="the browser (default: Debian's chromium on the PATH)")
    parser.add_argument("--pages", nargs="+", default=audited_pages(TOC),
                        help="pages to audit (default: the intro, every lesson and exercise)")
    args = parser.parse_args()
    if not args.chromium:
        parser.error("no chromium on the PATH: `make setup` installs Debian's chromium package")
    pages = {}
    with serve(args.html) as root:
        for page in args.pages:
            url = f"{root}/{page}.html"
            runs = [summary(lighthouse(url, args.chromium), url) for _ in range(args.runs)]
            median = statistics.median_low(r["scores"]["performance"] for r in runs)
            pages[page] = next(r for r in runs if r["scores"]["performance"] == median)
            pages[page]["performance_of_each_run"] = [r["scores"]["performance"] for r in runs]
            print(page, json.dumps(pages[page]))
    report = {"settings": {"runs": args.runs, "form_factor": "mobile", "throttling": "simulated",
                           "served": "127.0.0.1, text gzip-compressed"},
              "load_average_1min": round(os.getloadavg()[0], 1),
              "pages": pages}
    write_report(args.output, report, "benchmarks/lighthouse_audit.py")


if __name__ == "__main__":
    main()
