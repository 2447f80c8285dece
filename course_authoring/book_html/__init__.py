"""A Sphinx extension for the course's book (maintainers): what the built pages load and say.

Jupyter Book loads it from ``_config.yml`` (``sphinx: local_extensions``). Each module fixes one
thing in the HTML that Jupyter Book and its theme write on their own.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from course_authoring.book_html import (
    built_site,
    description,
    figures,
    icons,
    maths,
    scripts,
    sidebar_toggles,
    study_time,
    unused_assets,
    unused_css,
    worked_solutions,
)

__all__ = ["built_site", "description", "figures", "icons", "maths", "scripts", "setup",
           "sidebar_toggles", "study_time", "unused_assets", "unused_css", "worked_solutions"]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the renderer, the handlers and the directive of the modules."""
    maths.setup(app)
    # after the other extensions' handlers (priority 500), which add scripts during the same event
    app.connect("html-page-context", scripts.one_tag_per_script, priority=900)
    app.connect("html-page-context", scripts.defer_script_files, priority=900)
    app.connect("html-page-context", unused_assets.without_unused_extension_assets, priority=900)
    app.connect("html-page-context", figures.size_figures)
    app.connect("html-page-context", description.add_meta_description)
    app.connect("builder-inited", icons.register_filter)
    app.connect("build-finished", icons.keep_only_shown_icons)
    app.connect("build-finished", unused_css.purge_site_stylesheets)
    app.connect("builder-inited", sidebar_toggles.register_filter)
    app.connect("builder-inited", scripts.register_filter)
    app.add_config_value("course_worked_solutions", True, "env", types=[bool])
    app.connect("doctree-read", worked_solutions.append_worked_solution)
    study_time.setup_directive(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
