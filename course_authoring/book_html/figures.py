"""Figures that keep their place and load when the reader comes near them.

Sphinx writes a notebook's figure as ``<img alt=... src="../_images/…png">``: without a size the
browser cannot reserve its place, and the text jumps when it arrives; without ``loading="lazy"``
a phone fetches every figure of a long chapter before the page counts as loaded. Each figure of
a page gets its pixel size (the stylesheet keeps it scaled to the column), ``loading="lazy"`` and
``decoding="async"``.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from PIL import Image
from sphinx.application import Sphinx

IMG_TAG = re.compile(r"<img\b[^>]*>")
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
SRC = re.compile(r'\ssrc="([^"]+)"')


def with_size_and_lazy_loading(tag: str, size: tuple[int, int] | None) -> str:
    """``tag`` (an ``<img>``) with ``width``, ``height``, ``loading`` and ``decoding`` added,
    unless it already has any of them; without a known ``size``, unchanged."""
    if size is None or re.search(r"\s(width|height|loading|decoding)=", tag):
        return tag
    width, height = size
    end = "/>" if tag.endswith("/>") else ">"
    return (f'{tag[:-len(end)].rstrip()} width="{width}" height="{height}" loading="lazy" '
            f'decoding="async"{end}')


def size_figures(app: Sphinx, pagename: str, templatename: str, context: dict,
                 doctree: Any) -> None:
    """Give every figure that Sphinx copies into ``_images/`` in the page's body its size and
    lazy loading."""
    if "body" not in context or not getattr(app.builder, "images", None):
        return
    sources = {name: Path(app.srcdir) / source for source, name in app.builder.images.items()}

    def size_of(tag: re.Match) -> str:
        src = SRC.search(tag.group(0))
        if src is None or posixpath.dirname(src.group(1)).rsplit("/", 1)[-1] != "_images":
            return tag.group(0)
        source = sources.get(posixpath.basename(src.group(1)))
        if source is None or source.suffix.lower() not in RASTER_SUFFIXES or not source.is_file():
            return tag.group(0)
        with Image.open(source) as image:
            return with_size_and_lazy_loading(tag.group(0), image.size)

    context["body"] = IMG_TAG.sub(size_of, context["body"])
