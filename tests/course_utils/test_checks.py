"""course_utils._checks: the one positive-integer check every helper uses."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils._checks import positive_int


@pytest.mark.parametrize("value", [1, 784, np.int64(10), np.uint8(3)])
def test_positive_integers_pass_as_ints(value) -> None:
    result = positive_int(value, "n")
    assert result == value and type(result) is int


@pytest.mark.parametrize("value", [0, -3, 2.0, True, "10", None, np.float32(4)])
def test_anything_else_is_a_value_error_naming_the_argument(value) -> None:
    with pytest.raises(ValueError, match=r"^units must be a positive int, got "):
        positive_int(value, "units")
