"""course_authoring.book_html.sidebar_toggles: the top header without its hidden toggles."""

from __future__ import annotations

from course_authoring.book_html.sidebar_toggles import without_hidden_sidebar_toggles

HEADER = """\
<div class="bd-header__inner bd-page-width">
  <button class="pst-navbar-icon sidebar-toggle primary-toggle" aria-label="Site navigation">
    <span class="fa-solid fa-bars"></span>
  </button>
  <div class="navbar-header-items"><button class="btn search-button">Search</button></div>
    <button class="pst-navbar-icon sidebar-toggle secondary-toggle" aria-label="On this page">
      <span class="fa-solid fa-outdent"></span>
    </button>
</div>
"""
ARTICLE_TOGGLE = '<button class="sidebar-toggle primary-toggle btn btn-sm">x</button>'


def test_both_hidden_toggles_go_and_everything_else_stays() -> None:
    assert without_hidden_sidebar_toggles(HEADER) == """\
<div class="bd-header__inner bd-page-width">
  <div class="navbar-header-items"><button class="btn search-button">Search</button></div>
</div>
"""


def test_the_article_headers_own_toggle_is_kept() -> None:
    assert without_hidden_sidebar_toggles(ARTICLE_TOGGLE) == ARTICLE_TOGGLE


def test_the_result_is_markup_that_jinja_does_not_escape_again() -> None:
    assert hasattr(without_hidden_sidebar_toggles(HEADER), "__html__")
