"""Run one framework's training in a fresh process and measure it (chapter 7).

A Keras backend is chosen when Keras is first imported, so every configuration runs in its own
Python process (``python -m course_utils.frameworks.runner``) with ``KERAS_BACKEND`` set. The
child loads Fashion-MNIST (60,000 training images, pixels scaled to [0, 1] and flattened), builds
and trains the model with ``course_utils.frameworks.implementations``, and reports back as JSON:

* ``epoch_seconds``: wall-clock seconds of each epoch; the first includes tracing and compiling,
  so the speed is the **median of the later epochs** (``median_epoch_seconds``);
* ``peak_rss_mb``: the process's peak resident memory (imports, data and training together) and
  ``rss_before_training_mb``, its resident memory after loading everything but before training;
* ``test_accuracy`` on the 10,000 test images, and ``code_lines``: the non-blank, non-comment lines
  of the framework's ``build_*`` and ``train_*`` functions, docstrings excluded.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
import tokenize
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "FRAMEWORKS",
    "Framework",
    "RunConfig",
    "RunError",
    "RunResult",
    "code_functions",
    "code_lines",
    "run",
]


@dataclass(frozen=True)
class Framework:
    """One way of training the MLP: which implementation, and which Keras backend if any."""

    key: str
    label: str
    implementation: str  # "keras", "torch" or "numpy": the build_/train_/predict_ suffix
    keras_backend: str | None = None
    jit_compile: bool = True  # Keras only: XLA on TensorFlow and JAX, torch.compile on PyTorch


FRAMEWORKS: dict[str, Framework] = {f.key: f for f in [
    Framework("keras-tensorflow", "Keras 3 on TensorFlow", "keras", "tensorflow"),
    Framework("keras-jax", "Keras 3 on JAX", "keras", "jax"),
    Framework("keras-torch", "Keras 3 on PyTorch, eager", "keras", "torch", jit_compile=False),
    Framework("keras-torch-compiled", "Keras 3 on PyTorch, compiled", "keras", "torch"),
    Framework("pytorch", "PyTorch, explicit loop", "torch"),
    Framework("numpy", "NumPy from scratch", "numpy"),
]}


@dataclass(frozen=True)
class RunConfig:
    """What to train: the framework, the batch size, the epochs and how many training images."""

    framework: str
    batch_size: int = 128
    epochs: int = 3
    samples: int | None = None  # None: all 60,000
    seed: int = 42

    def __post_init__(self) -> None:
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"unknown framework {self.framework!r}; choose from "
                             f"{', '.join(FRAMEWORKS)}")
        if self.epochs < 2:
            raise ValueError("need at least 2 epochs: the first one includes compilation")
        if self.batch_size < 1 or (self.samples is not None and self.samples < self.batch_size):
            raise ValueError(f"batch_size {self.batch_size} and samples {self.samples} do not fit")


@dataclass
class RunResult:
    """What one run measured (see the module docstring)."""

    framework: str
    label: str
    batch_size: int
    epochs: int
    samples: int
    epoch_seconds: list[float]
    median_epoch_seconds: float
    samples_per_second: float
    peak_rss_mb: float
    rss_before_training_mb: float
    test_accuracy: float
    code_lines: int
    versions: dict[str, str] = field(default_factory=dict)


class RunError(RuntimeError):
    """The child process failed or timed out; the message carries the end of its output."""


def code_lines(*functions: Callable[..., Any]) -> int:
    """Lines of code of ``functions``: blank lines, comments and docstrings not counted."""
    total = 0
    for function in functions:
        source = textwrap.dedent(inspect.getsource(function))
        docstring_lines: set[int] = set()
        node = ast.parse(source).body[0]
        first = node.body[0] if getattr(node, "body", None) else None
        if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
            docstring_lines = set(range(first.lineno, first.end_lineno + 1))
        code = set()
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                  tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                code.update(range(token.start[0], token.end[0] + 1))
        total += len(code - docstring_lines)
    return total


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _versions(framework: Framework) -> dict[str, str]:
    import numpy

    versions = {"python": sys.version.split()[0], "numpy": numpy.__version__}
    if framework.implementation == "keras":
        import keras

        versions["keras"] = keras.__version__
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(
        framework.keras_backend or ("torch" if framework.implementation == "torch" else ""))
    if module:
        versions[module] = __import__(module).__version__
    return versions


def code_functions(framework: Framework) -> list[Callable[..., Any]]:
    """The functions whose lines count as the framework's model-and-training code.

    For NumPy that includes the parts of chapter 1's ``numpy_nn`` it calls: the forward and
    backward pass, the activations, the initialisation and Adam, which a framework provides.
    """
    from course_utils import numpy_nn
    from course_utils.frameworks import implementations

    own = [getattr(implementations, f"{step}_{framework.implementation}")
           for step in ("build", "train")]
    if framework.implementation != "numpy":
        return own
    return own + [numpy_nn.init_params, numpy_nn.forward, numpy_nn.backward, numpy_nn.relu,
                  numpy_nn.relu_grad, numpy_nn.softmax, numpy_nn.Adam.step]


def _train_and_measure(config: RunConfig) -> RunResult:
    """The child's work: load data, train, time each epoch, evaluate."""
    import numpy as np

    from course_utils import data
    from course_utils.frameworks import implementations

    framework = FRAMEWORKS[config.framework]
    (train_images, train_labels), (test_images, test_labels) = data.load_dataset("fashion_mnist")
    count = config.samples or len(train_images)
    x = train_images[:count].reshape(count, -1).astype(np.float32) / np.float32(255)
    labels = train_labels[:count].astype(np.int64)
    x_test = test_images.reshape(len(test_images), -1).astype(np.float32) / np.float32(255)

    build = getattr(implementations, f"build_{framework.implementation}")
    train = getattr(implementations, f"train_{framework.implementation}")
    if framework.implementation == "keras":
        train = functools.partial(train, jit_compile=framework.jit_compile)
    predict = getattr(implementations, f"predict_{framework.implementation}")
    model = build(config.seed)
    rss_before = _rss_mb()
    ends: list[float] = []
    start = time.perf_counter()
    trained = train(model, x, labels, config.epochs, config.batch_size,
                    lambda: ends.append(time.perf_counter()))
    model = trained if trained is not None else model  # NumPy returns new parameters
    seconds = [end - begin for begin, end in zip([start, *ends], ends)]
    accuracy = float(np.mean(predict(model, x_test) == test_labels))
    median = statistics.median(seconds[1:])
    return RunResult(
        framework=config.framework, label=framework.label, batch_size=config.batch_size,
        epochs=config.epochs, samples=count, epoch_seconds=seconds, median_epoch_seconds=median,
        samples_per_second=count / median,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        rss_before_training_mb=rss_before, test_accuracy=accuracy,
        code_lines=code_lines(*code_functions(framework)), versions=_versions(framework),
    )


def run(config: RunConfig, timeout: float = 900) -> RunResult:
    """Train ``config`` in a fresh Python process and return what it measured."""
    framework = FRAMEWORKS[config.framework]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
    if framework.keras_backend:
        env["KERAS_BACKEND"] = framework.keras_backend
    command = [sys.executable, "-m", "course_utils.frameworks.runner", json.dumps(asdict(config))]
    try:
        child = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise RunError(f"{framework.label}: no result within {timeout:.0f} s") from error
    if child.returncode != 0:
        raise RunError(f"{framework.label} failed (exit {child.returncode}):\n"
                       f"{child.stderr[-3000:]}")
    return RunResult(**json.loads(child.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train one configuration; print JSON.")
    parser.add_argument("config", help="a RunConfig as JSON")
    config = RunConfig(**json.loads(parser.parse_args(argv).config))
    print(json.dumps(asdict(_train_and_measure(config))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
