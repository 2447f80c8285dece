"""nbgrader configuration for the course (the repository root is the nbgrader course root).

Instructors: `make release` regenerates `notebooks/` (student copies) from `solutions/`;
`make grade` autogrades everything under `submitted/<student>/<assignment>/` (both run
`python -m course_grading`, which reads its folders and gradebook from this file).
"""

c = get_config()  # noqa: F821 - injected by nbgrader

c.CourseDirectory.course_id = "neural-networks-in-python"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# --- Collecting an LMS's zip of the class's notebooks (`make collect-zip ASSIGNMENT= ZIP=`).
# nbgrader's zip_collect matches this regular expression against the full path of every file
# extracted from the zip (hence the leading `.*/`). The course's naming: a folder per student,
# named by the student id, an underscore and anything, holding the notebook:
#     ada_1234/01-concepts.ipynb  ->  submitted/ada/01-concepts/01-concepts.ipynb
# A student id starts with a letter or a digit and holds letters, digits, `.`, `@` and `-`.
# To adapt it, keep the named groups student_id (the folder under submitted/) and file_id (the
# notebook's file name). The patterns for Moodle's, Canvas's and Blackboard's zips are on the
# instructors' page (book/using-the-course.md) and in course_grading.zip_collect.LMS_PATTERNS.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9][A-Za-z0-9.@-]*)_[^/]*/(?P<file_id>[^/]+\.ipynb)$"
)

# The stub a learner sees in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A grade cell deleted by a learner is put back from the gradebook instead of being lost.
c.OverwriteCells.add_missing_cells = True

# A submission that hangs must not hang the class: per-cell limit in seconds.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# --- Autograding that survives bad submissions (book/using-the-course.md explains it).
# nbgrader's autograde pipeline, with its Execute replaced by GuardedExecute (the sandboxed
# kernel, a time limit for the whole notebook, a dead or hung kernel scores the rest 0) and
# steps added before the grades are saved: stderr in a grade cell no longer zeroes it, no
# output is stored longer than TruncateOutputs.max_chars, and a test cell scores by its error
# output alone (ScoreByErrorOnly: nbgrader would read an execute_result in it, which a thread
# of the submission can emit, as the cell's partial score). The notebook nbgrader sees has
# already had every cell's metadata rebuilt from solutions/ (course_grading.preflight), so no
# submitted tag (skip-execution, raises-exception) or metadata reaches these steps.
c.Autograde.autograde_preprocessors = [
    "course_grading.nbgrader_steps.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "course_grading.nbgrader_steps.StderrToStdout",
    "nbgrader.preprocessors.LimitOutput",
    "course_grading.nbgrader_steps.TruncateOutputs",
    "course_grading.nbgrader_steps.ScoreByErrorOnly",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Limits of the grading kernel (the per-cell limit is c.Execute.timeout above). The CPU limit
# defaults to twice the notebook limit; TensorFlow alone maps gigabytes of address space.
c.GuardedExecute.notebook_timeout = 600
c.GuardedExecute.memory_limit_mb = 6144
c.GuardedExecute.file_limit_mb = 256
c.GuardedExecute.process_limit = 512
c.TruncateOutputs.max_chars = 100_000

# Feedback shows neither the hidden tests' source, nor tracebacks that quote it, nor any output
# that quotes a line of a hidden test (a printed input history `In`, source read by `inspect`:
# RemoveQuotedHiddenTests reads the hidden tests from the gradebook and from the notebook's test
# cells, so it must come before ClearHiddenTests; after HideHiddenTestTracebacks, so that a
# failing test's message stays).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "course_grading.nbgrader_steps.HideHiddenTestTracebacks",
    "course_grading.feedback_steps.RemoveQuotedHiddenTests",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# --- HTML made from submissions runs no script: feedback pages (GenerateFeedback) and the
# Formgrader's view of a submission both render with an nbconvert HTMLExporter built from this
# configuration (nbgrader's server extension: HTMLExporter(config=...), template "formgrade").
# sanitize_html cleans HTML and Markdown *outputs* (bleach: <script>, event handlers and
# javascript: links become text, at the price of tables and images in HTML outputs); nbgrader's
# own templates render Markdown *cells* without it, so SanitizeForHtml shows a Markdown cell
# that holds anything but plain Markdown as text, and drops rich outputs with TeX links.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.preprocessors = ["course_grading.feedback_steps.SanitizeForHtml"]
