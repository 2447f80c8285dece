"""nbgrader configuration for the course (the repository root is the nbgrader course root).

Instructors: `make release` regenerates `notebooks/` (student copies) from `solutions/`;
`make grade` autogrades everything under `submitted/<student>/<assignment>/`.
"""

c = get_config()  # noqa: F821 - injected by nbgrader

c.CourseDirectory.course_id = "neural-networks-in-python"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# The stub a learner sees in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A grade cell deleted by a learner is put back from the gradebook instead of being lost.
c.OverwriteCells.add_missing_cells = True

# A submission that hangs must not hang the class: per-cell limit in seconds.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
