"""pytest plugin for the lesson notebooks under nbval (loaded with ``-p``, see the Makefile).

nbval compares every output a cell printed. stderr carries TensorFlow's and Keras's log lines,
whose content depends on the machine (CPU features, thread pools), so it is not compared:
stdout and rich outputs are.
"""

from __future__ import annotations

import pytest
from nbval.plugin import IPyNbFile

NOT_COMPARED = ("stderr",)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add the stream names in NOT_COMPARED to each notebook's ``skip_compare``."""
    for item in items:
        notebook = item.parent
        if isinstance(notebook, IPyNbFile):
            missing = tuple(key for key in NOT_COMPARED if key not in notebook.skip_compare)
            notebook.skip_compare = (*notebook.skip_compare, *missing)
