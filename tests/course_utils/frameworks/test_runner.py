"""course_utils.frameworks.runner: line counting, run configuration, one real run per kind."""

from __future__ import annotations

import pytest

from course_utils.frameworks import runner


def _sample(a: int) -> int:
    """A docstring, not counted."""
    # a comment, not counted

    b = a + 1  # code with a comment: counted
    return (b
            * 2)


def test_code_lines_counts_code_only() -> None:
    assert runner.code_lines(_sample) == 4  # def, assignment, and a return spread over two lines


def test_code_lines_of_the_frameworks() -> None:
    counts = {key: runner.code_lines(*runner.code_functions(framework))
              for key, framework in runner.FRAMEWORKS.items()}
    keras_counts = {counts[key] for key, framework in runner.FRAMEWORKS.items()
                    if framework.implementation == "keras"}
    assert keras_counts == {counts["keras-tensorflow"]}  # one Keras code, every backend
    assert counts["keras-tensorflow"] < counts["pytorch"] < counts["numpy"]


class _RecordingModel:
    """Stands in for a Keras model: records what compile and fit were given."""

    def compile(self, **options: object) -> None:
        self.compiled = options

    def fit(self, *args: object, **options: object) -> None:
        self.fitted = options


@pytest.mark.parametrize("key, expected", [
    ("keras-tensorflow", True), ("keras-jax", True),
    ("keras-torch", False), ("keras-torch-compiled", True),
])
def test_each_keras_configuration_compiles_as_labelled(key: str, expected: bool) -> None:
    import functools

    from course_utils.frameworks import implementations

    framework = runner.FRAMEWORKS[key]
    assert framework.jit_compile is expected
    assert ("compiled" in framework.label) == (key == "keras-torch-compiled")
    model = _RecordingModel()
    train = functools.partial(implementations.train_keras, jit_compile=framework.jit_compile)
    train(model, None, None, 2, 32, lambda: None)
    assert model.compiled["jit_compile"] is expected


@pytest.mark.parametrize("kwargs, message", [
    ({"framework": "caffe"}, "unknown framework"),
    ({"framework": "numpy", "epochs": 1}, "at least 2 epochs"),
    ({"framework": "numpy", "batch_size": 256, "samples": 100}, "do not fit"),
])
def test_run_config_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        runner.RunConfig(**kwargs)


@pytest.mark.slow  # a training run in a fresh process of its own
@pytest.mark.parametrize("key", ["pytorch", "numpy"])
def test_run_trains_in_a_fresh_process_and_measures(key: str) -> None:
    result = runner.run(runner.RunConfig(key, batch_size=64, epochs=2, samples=1024))
    assert result.framework == key and result.samples == 1024
    assert len(result.epoch_seconds) == 2 and result.median_epoch_seconds > 0
    assert result.samples_per_second == pytest.approx(1024 / result.median_epoch_seconds)
    assert 0.3 < result.test_accuracy < 1.0  # learned something from 1,024 images
    assert result.peak_rss_mb >= result.rss_before_training_mb > 10
    assert "numpy" in result.versions
