"""The instructors' grading tools for the course "Neural Networks in Python" (nbgrader).

Not for learners: lessons and exercises import only ``course_utils``. One module per step:
:mod:`~course_grading.course` (the course folder and its nbgrader configuration),
:mod:`~course_grading.release` (student copies), :mod:`~course_grading.zip_collect` (an LMS's
zip into ``submitted/``), :mod:`~course_grading.preflight` and :mod:`~course_grading.tamper`
(checks before a submission runs), :mod:`~course_grading.sandbox`,
:mod:`~course_grading.cgroups` and :mod:`~course_grading.zygote` (where it runs),
:mod:`~course_grading.nbgrader_steps`, :mod:`~course_grading.refereeing`,
:mod:`~course_grading.referee` and :mod:`~course_grading.referee_checks` (how its cells and
the tests run),
:mod:`~course_grading.feedback_steps` (what its feedback may show),
:mod:`~course_grading.nbgrader_call` (nbgrader's processes), :mod:`~course_grading.autograde`,
:mod:`~course_grading.fingerprints` and :mod:`~course_grading.progress` (a class's run),
:mod:`~course_grading.gradebook`, :mod:`~course_grading.postgres` and
:mod:`~course_grading.export` (scores), :mod:`~course_grading.self_check` (a learner's check of
their own notebook), :mod:`~course_grading.hub` (a class on JupyterHub), and the command line
``python -m course_grading``.
"""

__all__ = [
    "autograde", "cgroups", "course", "export", "feedback_steps", "fingerprints", "gradebook",
    "hub", "nbgrader_call", "nbgrader_steps", "postgres", "preflight", "progress", "referee",
    "referee_checks", "refereeing", "release", "sandbox", "self_check", "tamper", "zip_collect",
    "zygote",
]
