"""Drawings of networks and of computations (chapter 1: a network diagram, a computational graph).

Each function returns the ``matplotlib.figure.Figure`` it drew, in the book's column width and
text sizes, like the plots in ``course_utils.plots``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from course_utils._checks import positive_int
from course_utils.plots import COLUMN_WIDTH, SMALL_TEXT, book_style

__all__ = ["draw_computational_graph", "draw_network"]

LAYER_COLORS = ("#cfe2f3", "#fde9c7", "#d9ead3")  # input, hidden, output (light: text stays dark)
MAX_DRAWN_UNITS = 8  # a taller layer is drawn as its first and last units with a gap between
COLUMN_STEP = 3.6  # horizontal distance between layers, in units of the vertical distance


def _unit_rows(size: int) -> list[float | None]:
    """Vertical slots of a layer's drawn units; None marks the '⋮' of a layer too tall to draw."""
    if size <= MAX_DRAWN_UNITS:
        return [float(i) for i in range(size)]
    half = MAX_DRAWN_UNITS // 2
    top = [float(i) for i in range(half, MAX_DRAWN_UNITS)]
    return [float(i) for i in range(half - 1)] + [None] + top


def draw_network(
    layer_sizes: Sequence[int],
    labels: Sequence[str] | None = None,
    weight_labels: Sequence[str] | None = None,
) -> Figure:
    """A dense network: circles (units) in columns (layers), each joined to every next-layer unit.

    ``labels`` names each layer under its column, ``weight_labels`` each set of connections
    above it; a layer of more than eight units is drawn with a gap (⋮).
    """
    sizes = [positive_int(size, "each layer size") for size in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(f"a network needs at least two layers, got {len(sizes)}")
    if labels is not None and len(labels) != len(sizes):
        raise ValueError(f"got {len(labels)} labels for {len(sizes)} layers")
    if weight_labels is not None and len(weight_labels) != len(sizes) - 1:
        raise ValueError(f"got {len(weight_labels)} weight labels for {len(sizes) - 1} "
                         "sets of connections")
    with book_style():
        tallest = min(max(sizes), MAX_DRAWN_UNITS)
        data_width = (len(sizes) - 1) * COLUMN_STEP + 2.8
        data_height = tallest + (1.3 if labels is None else 2.6) + (weight_labels is not None)
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, COLUMN_WIDTH * data_height / data_width))
        centres = []
        for column, size in enumerate(sizes):
            rows = _unit_rows(size)
            offset = (tallest - len(rows)) / 2
            x = column * COLUMN_STEP
            centres.append([(x, offset + row) if row is not None else None for row in rows])
            for slot, row in enumerate(rows):
                if row is None:
                    ax.text(x, offset + slot, "⋮", ha="center", va="center")
        for left, right in zip(centres, centres[1:]):
            for start in filter(None, left):
                for end in filter(None, right):
                    ax.plot(*zip(start, end), color="0.55", linewidth=0.6, zorder=1)
        for column, units in enumerate(centres):
            color = LAYER_COLORS[0 if column == 0 else 2 if column == len(sizes) - 1 else 1]
            for centre in filter(None, units):
                ax.add_patch(Circle(centre, 0.28, facecolor=color, edgecolor="black", zorder=2))
            if labels is not None:
                ax.text(column * COLUMN_STEP, -0.7, labels[column], ha="center", va="top",
                        fontsize=SMALL_TEXT)
        for column, label in enumerate(weight_labels or []):
            ax.text((column + 0.5) * COLUMN_STEP, tallest - 0.1, label, ha="center",
                    va="bottom", fontsize=SMALL_TEXT, color="#7a2e00")
        ax.set_xlim(-1.4, (len(sizes) - 1) * COLUMN_STEP + 1.4)
        top = tallest + (0.6 if weight_labels is not None else -0.3)
        ax.set_ylim(-2.0 if labels is not None else -0.6, top)
        ax.set_aspect("equal")
        ax.axis("off")
        fig.tight_layout()
    return fig


def draw_computational_graph(
    nodes: Mapping[str, tuple[float, float]],
    edges: Sequence[tuple[str, str, str]],
    notes: Mapping[str, str] | None = None,
) -> Figure:
    """Boxes (values) at the given (x, y) positions, arrows (operations) labelled between them.

    ``edges`` are ``(from, to, label)``, e.g. the local derivative of ``to`` with respect to
    ``from``; ``notes`` puts a line of small text under a node (its value, its gradient).
    """
    if not nodes:
        raise ValueError("the graph needs at least one node")
    for start, end, _ in edges:
        for name in (start, end):
            if name not in nodes:
                raise ValueError(f"edge {start!r} → {end!r} names an unknown node {name!r}")
    notes = dict(notes or {})
    for name in notes:
        if name not in nodes:
            raise ValueError(f"a note is given for an unknown node {name!r}")
    xs = [x for x, _ in nodes.values()]
    ys = [y for _, y in nodes.values()]
    with book_style():
        width = max(xs) - min(xs) + 1.6
        height = max(ys) - min(ys) + 1.6
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, COLUMN_WIDTH * height / width))
        for name, (x, y) in nodes.items():
            ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.22), 0.84, 0.44,
                                        boxstyle="round,pad=0.04", facecolor=LAYER_COLORS[0],
                                        edgecolor="black", zorder=2))
            ax.text(x, y, name, ha="center", va="center", zorder=3)
            if name in notes:
                ax.text(x, y - 0.34, notes[name], ha="center", va="top", fontsize=SMALL_TEXT)
        for start, end, label in edges:
            (x0, y0), (x1, y1) = nodes[start], nodes[end]
            ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14,
                                         shrinkA=24, shrinkB=24, color="0.25", zorder=1))
            if label:
                ax.text((x0 + x1) / 2, (y0 + y1) / 2, label, ha="center", va="center",
                        fontsize=SMALL_TEXT, color="#7a2e00", zorder=3,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                              "edgecolor": "none"})
        ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.set_aspect("equal")
        ax.axis("off")
        fig.tight_layout()
    return fig
