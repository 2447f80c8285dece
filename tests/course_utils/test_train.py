"""Tests of course_utils.train: compile defaults, fit's checks, the epoch timer and time budget."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from course_utils import models, train


def tiny_model() -> keras.Model:
    return models.mlp((16,), input_dim=8, n_outputs=3, name="tiny")


def tiny_data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)  # a learnable rule, 0..2
    return x, keras.utils.to_categorical(labels, 3)


def test_compile_model_returns_the_same_model_compiled():
    model = tiny_model()
    assert train.compile_model(model) is model
    assert model.compiled


@pytest.fixture(autouse=True)
def without_op_determinism():
    """Switch TensorFlow op determinism off for each test (Keras refuses XLA while it is on).

    ``repro.set_seed(strict_determinism=True)`` switches it on for the rest of the process, so
    without this fixture these tests would compile differently depending on test order.
    """
    from tensorflow.python.framework import config  # Keras reads the flag from here too

    was_enabled = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    yield
    if was_enabled:
        config.enable_op_determinism()


def test_compile_model_enables_xla_by_default():
    assert train.compile_model(tiny_model()).jit_compile is True


def test_compile_model_skips_xla_without_a_warning_when_op_determinism_is_on(recwarn):
    from tensorflow.python.framework import config

    config.enable_op_determinism()
    keras.utils.set_random_seed(0)  # under op determinism, random ops need a seed
    model = train.compile_model(tiny_model())
    x, y = tiny_data()
    train.fit(model, x, y, epochs=1, verbose=0)
    assert model.jit_compile is False
    assert not [w for w in recwarn if "jit_compile" in str(w.message)]


def test_compile_model_can_disable_xla():
    assert train.compile_model(tiny_model(), jit_compile=False).jit_compile is False


def test_compile_model_default_steps_per_execution():
    model = train.compile_model(tiny_model())
    assert model.steps_per_execution == train.DEFAULT_STEPS_PER_EXECUTION


def test_compile_model_passes_steps_per_execution():
    assert train.compile_model(tiny_model(), steps_per_execution=5).steps_per_execution == 5


def test_compile_model_default_loss_and_optimizer():
    model = train.compile_model(tiny_model())
    assert model.loss == "categorical_crossentropy"
    assert isinstance(model.optimizer, keras.optimizers.Adam)


@pytest.mark.parametrize("steps", [0, -1, 2.0])
def test_compile_model_rejects_bad_steps_per_execution(steps):
    with pytest.raises(ValueError, match="steps_per_execution"):
        train.compile_model(tiny_model(), steps_per_execution=steps)


def test_fit_returns_history_with_finite_decreasing_loss():
    keras.utils.set_random_seed(0)
    x, y = tiny_data()
    model = train.compile_model(tiny_model(), steps_per_execution=4)
    history = train.fit(model, x, y, epochs=2, batch_size=16, verbose=0)
    assert isinstance(history, keras.callbacks.History)
    losses = history.history["loss"]
    assert len(losses) == 2
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[1] < losses[0]


def test_fit_passes_extra_keyword_arguments_to_keras():
    x, y = tiny_data()
    model = train.compile_model(tiny_model(), steps_per_execution=4)
    history = train.fit(model, x, y, epochs=1, batch_size=16, verbose=0, validation_split=0.25)
    assert "val_loss" in history.history


def test_fit_mismatched_x_and_y_raises_value_error():
    x, y = tiny_data()
    model = train.compile_model(tiny_model())
    with pytest.raises(ValueError, match="64.*63"):
        train.fit(model, x, y[:-1], epochs=1, verbose=0)


def test_fit_uncompiled_model_raises_value_error():
    x, y = tiny_data()
    with pytest.raises(ValueError, match="compile"):
        train.fit(tiny_model(), x, y, epochs=1, verbose=0)


def test_epoch_timer_records_one_positive_duration_per_epoch():
    x, y = tiny_data()
    model = train.compile_model(tiny_model(), steps_per_execution=4)
    timer = train.EpochTimer()
    train.fit(model, x, y, epochs=3, batch_size=16, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3
    assert all(seconds > 0 for seconds in timer.seconds)


def test_epoch_timer_starts_empty():
    assert train.EpochTimer().seconds == []


def fit_with(budget: train.TimeBudget, epochs: int) -> keras.callbacks.History:
    model = tiny_model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model.fit(*tiny_data(16), epochs=epochs, verbose=0, callbacks=[budget])


def test_time_budget_stops_when_the_next_epoch_would_overrun():
    budget = train.TimeBudget(1e-6)
    history = fit_with(budget, epochs=20)
    assert len(history.history["loss"]) == 1
    assert budget.stopped
    assert budget.elapsed > 0


def test_time_budget_lets_a_short_training_finish_and_times_each_epoch():
    budget = train.TimeBudget(600)
    history = fit_with(budget, epochs=3)
    assert len(history.history["loss"]) == 3
    assert not budget.stopped
    assert 0 < budget.elapsed < 600
    assert len(budget.seconds) == 3 and sum(budget.seconds) <= budget.elapsed


@pytest.mark.parametrize("seconds", [0, -5.0])
def test_time_budget_must_be_positive(seconds):
    with pytest.raises(ValueError):
        train.TimeBudget(seconds)
