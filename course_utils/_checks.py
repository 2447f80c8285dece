"""Argument checks shared by the helpers: one clear ``ValueError`` for a wrong value."""

from __future__ import annotations

import numpy as np

__all__ = ["positive_int"]


def positive_int(value: object, label: str) -> int:
    """``value`` as an int if it is a positive integer (not a bool); otherwise a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{label} must be a positive int, got {value!r}")
    return int(value)
