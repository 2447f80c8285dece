"""benchmarks/lighthouse_audit.py: which pages it audits and how it counts bytes before load."""

from __future__ import annotations

from tests.benchmarks.quick_runs import load_script
from tests.support import REPO, toc_files

audit = load_script("lighthouse_audit.py")


def test_it_audits_the_intro_and_every_lesson_and_exercise_page() -> None:
    pages = audit.audited_pages(REPO / "_toc.yml")
    lessons = [p for p in toc_files() if p.startswith("book/") and p[5:7].isdigit()]
    exercises = [p for p in toc_files() if p.startswith("notebooks/")]
    assert pages == ["book/intro", *lessons, *exercises]
    assert len(lessons) == len(exercises) == 8


def test_bytes_before_load_count_requests_ended_by_the_load_event_by_kind() -> None:
    page = "http://127.0.0.1:9/book/01-concepts.html"
    requests = [
        {"url": page, "networkEndTime": 100, "transferSize": 30_000},
        {"url": "http://127.0.0.1:9/_static/styles/theme.css", "networkEndTime": 300,
         "transferSize": 20_000},
        {"url": "http://127.0.0.1:9/_images/a.png", "networkEndTime": 500, "transferSize": 40_000},
        {"url": "http://127.0.0.1:9/_images/b.png", "networkEndTime": 900, "transferSize": 50_000},
        {"url": "http://127.0.0.1:9/searchindex.js", "transferSize": 9_000},  # never finished
    ]
    result = {"audits": {"metrics": {"details": {"items": [{"observedLoad": 600}]}},
                         "network-requests": {"details": {"items": requests}}}}
    assert audit.bytes_before_load(result, page) == {
        "total": 90_000, "page": 30_000, "figures": 40_000, "assets": 20_000}
