"""The maintainers' tools for the course "Neural Networks in Python": lessons executed and checked.

Not for learners or instructors. ``python -m course_authoring execute book/01-concepts.ipynb``
re-executes a lesson in place (``make execute``); ``python -m course_authoring check book/*.ipynb``
lists what is not clean (``make test`` runs it first).
"""

__all__ = ["lessons"]
