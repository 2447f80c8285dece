"""Tests of course_utils.diagrams: what each drawing contains, and its input checks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported (by course_utils.diagrams)

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from course_utils import diagrams  # noqa: E402
from course_utils.plots import COLUMN_WIDTH  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig) -> list[str]:
    return [text.get_text() for text in fig.axes[0].texts]


def test_network_draws_one_circle_per_unit_and_every_connection() -> None:
    fig = diagrams.draw_network([4, 5, 3], ["in", "hidden", "out"], ["W1", "W2"])
    ax = fig.axes[0]
    assert sum(isinstance(p, Circle) for p in ax.patches) == 4 + 5 + 3
    assert len(ax.lines) == 4 * 5 + 5 * 3
    assert texts(fig) == ["in", "hidden", "out", "W1", "W2"]
    assert fig.get_figwidth() == pytest.approx(COLUMN_WIDTH)


def test_a_tall_layer_is_drawn_with_a_gap() -> None:
    fig = diagrams.draw_network([784, 6])
    ax = fig.axes[0]
    drawn = diagrams.MAX_DRAWN_UNITS - 1
    assert sum(isinstance(p, Circle) for p in ax.patches) == drawn + 6
    assert texts(fig).count("⋮") == 1
    assert len(ax.lines) == drawn * 6


@pytest.mark.parametrize(("sizes", "labels", "weight_labels", "message"), [
    ([4], None, None, "at least two layers"),
    ([4, 0], None, None, "positive int"),
    ([4, 2.5], None, None, "positive int"),
    ([4, 3], ["only one"], None, "2 layers"),
    ([4, 3], None, ["a", "b"], "1 sets of connections"),
])
def test_network_input_errors(sizes, labels, weight_labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        diagrams.draw_network(sizes, labels, weight_labels)


def test_graph_draws_nodes_edges_labels_and_notes() -> None:
    fig = diagrams.draw_computational_graph(
        {"x": (0, 0), "z": (2, 0), "L": (4, 0)},
        [("x", "z", "×w"), ("z", "L", "")],
        notes={"L": "0.5"},
    )
    ax = fig.axes[0]
    assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 3
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 2
    assert sorted(texts(fig)) == sorted(["x", "z", "L", "0.5", "×w"])


@pytest.mark.parametrize(("nodes", "edges", "notes", "message"), [
    ({}, [], None, "at least one node"),
    ({"x": (0, 0)}, [("x", "y", "")], None, "unknown node 'y'"),
    ({"x": (0, 0)}, [], {"q": "1"}, "unknown node 'q'"),
])
def test_graph_input_errors(nodes, edges, notes, message) -> None:
    with pytest.raises(ValueError, match=message):
        diagrams.draw_computational_graph(nodes, edges, notes)
