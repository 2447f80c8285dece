"""course_authoring.book_html.icons: the theme's head without its fontawesome.js."""

from __future__ import annotations

from course_authoring.book_html.icons import without_fontawesome_script

HEAD = """\
  <link href="../_static/styles/theme.css?digest=abc" rel="stylesheet" />
  <script defer src="../_static/scripts/fontawesome.js?digest=abc"></script>
  <link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=abc" />
"""


def test_the_fontawesome_script_tag_is_removed_and_nothing_else() -> None:
    assert without_fontawesome_script(HEAD) == """\
  <link href="../_static/styles/theme.css?digest=abc" rel="stylesheet" />
  <link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=abc" />
"""


def test_the_result_is_markup_that_jinja_does_not_escape_again() -> None:
    assert hasattr(without_fontawesome_script(HEAD), "__html__")
