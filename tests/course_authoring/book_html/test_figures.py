"""course_authoring.book_html.figures: every figure with its size and lazy loading."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from PIL import Image

from course_authoring.book_html.figures import size_figures, with_size_and_lazy_loading


def test_a_figure_gets_its_size_and_lazy_loading() -> None:
    assert with_size_and_lazy_loading('<img alt="a plot" src="../_images/x.png" />', (624, 304)) \
        == '<img alt="a plot" src="../_images/x.png" width="624" height="304" loading="lazy" ' \
           'decoding="async"/>'


def test_a_figure_that_already_has_a_size_or_no_known_size_is_left_alone() -> None:
    sized = '<img src="x.png" width="10">'
    assert with_size_and_lazy_loading(sized, (624, 304)) == sized
    assert with_size_and_lazy_loading('<img src="x.png">', None) == '<img src="x.png">'


def test_only_figures_copied_into_images_are_sized(tmp_path: Path) -> None:
    Image.new("RGB", (40, 30), "white").save(tmp_path / "plot.png")
    (tmp_path / "diagram.svg").write_text("<svg/>")
    app = SimpleNamespace(srcdir=str(tmp_path), builder=SimpleNamespace(
        images={"plot.png": "abc.png", "diagram.svg": "def.svg"}))
    context = {"body": '<p><img alt="plot" src="../_images/abc.png"></p>'
                       '<img alt="diagram" src="../_images/def.svg">'
                       '<img alt="logo" src="../_static/images/logo.png">'}

    size_figures(app, "book/page", "page.html", context, None)

    assert context["body"] == (
        '<p><img alt="plot" src="../_images/abc.png" width="40" height="30" loading="lazy" '
        'decoding="async"></p><img alt="diagram" src="../_images/def.svg">'
        '<img alt="logo" src="../_static/images/logo.png">')
