"""The learners' helpers for "Neural Networks in Python": all that lessons and exercises import.

Importing the package sets the course's environment variables (TensorFlow's log level, the hash
seed, the Keras backend) before anything imports TensorFlow. The submodules are imported on
demand: ``from course_utils import data, models, plots, repro, train``. Each helper's docstring
names the chapter that teaches it. (Instructors' grading tools are in ``course_grading``,
maintainers' tools in ``course_authoring``.)
"""

from course_utils import repro

__all__ = [
    "data", "diagnostics", "diagrams", "flops", "frameworks", "metrics", "models", "numpy_nn",
    "plots", "preprocess", "repro", "train", "versions",
]
__version__ = "0.1.0"

repro.configure_environment()
