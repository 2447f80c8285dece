"""The instructors' grading tools for the course "Neural Networks in Python" (nbgrader).

Not for learners: lessons and exercises import only ``course_utils``. One module per step:
:mod:`~course_grading.course` (the course folder and its nbgrader configuration),
:mod:`~course_grading.release` (student copies), :mod:`~course_grading.preflight` and
:mod:`~course_grading.tamper` (checks before a submission runs), :mod:`~course_grading.sandbox`
and :mod:`~course_grading.nbgrader_steps` (how it runs), :mod:`~course_grading.autograde` and
:mod:`~course_grading.gradebook` (scores), :mod:`~course_grading.self_check` (a learner's check of
their own notebook), and the command line ``python -m course_grading``.
"""

__all__ = [
    "autograde", "course", "gradebook", "nbgrader_call", "nbgrader_steps", "preflight", "release",
    "sandbox", "self_check", "tamper",
]
