"""Helpers for the course "Neural Networks in Python".

Importing the package sets the course's environment variables (TensorFlow's log level, the hash
seed, the Keras backend) before anything imports TensorFlow. The submodules are imported on
demand: ``from course_utils import data, models, plots, repro, train``.
"""

from course_utils import repro

__all__ = [
    "data", "frameworks", "grading", "metrics", "models", "notebooks", "numpy_nn", "plots",
    "preprocess", "preprocessors", "regularization", "repro", "sandbox", "submissions", "tamper",
    "throughput", "train", "versions",
]
__version__ = "0.1.0"

repro.configure_environment()
