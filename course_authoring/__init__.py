"""The maintainers' tools for "Neural Networks in Python": lessons executed and checked, the
benchmarks' JSON writer and synthetic classes, and the book's Sphinx extension (``book_html``,
loaded by _config.yml).

Not for learners or instructors. ``python -m course_authoring execute book/01-concepts.ipynb``
re-executes a lesson in place (``make execute``); ``python -m course_authoring check book/*.ipynb``
lists what is not clean (``make test`` runs it first); ``python -m course_authoring.cpu_time CMD``
prints what CPU time a command cost (``make test`` runs pytest through it).
"""

__all__ = ["benchmark_reports", "book_html", "cpu_time", "lessons", "synthetic_class"]
