"""Tests of course_utils.repro: seeding and the environment set before TensorFlow starts."""

# set_seed seeds NumPy's legacy global generator (what np.random.* uses), so these tests use it.
# ruff: noqa: NPY002

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys

import keras
import numpy as np
import pytest

from course_utils import repro
from tests.support import REPO


def keras_weights() -> np.ndarray:
    layer = keras.layers.Dense(4)
    layer.build((None, 3))
    return layer.get_weights()[0]


def test_set_seed_repeats_numpy_draws():
    repro.set_seed(3)
    first = np.random.rand(4)
    repro.set_seed(3)
    np.testing.assert_array_equal(np.random.rand(4), first)


def test_set_seed_repeats_python_random_draws():
    repro.set_seed(3)
    first = [random.random() for _ in range(3)]
    repro.set_seed(3)
    assert [random.random() for _ in range(3)] == first


def test_set_seed_repeats_keras_random_draws():
    repro.set_seed(3)
    first = keras.ops.convert_to_numpy(keras.random.uniform((4,)))
    repro.set_seed(3)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras.random.uniform((4,))), first)


def test_set_seed_repeats_keras_weight_initialisation():
    repro.set_seed(3)
    first = keras_weights()
    repro.set_seed(3)
    np.testing.assert_array_equal(keras_weights(), first)


def test_different_seeds_give_different_draws():
    repro.set_seed(1)
    first = np.random.rand(4)
    repro.set_seed(2)
    assert not np.array_equal(np.random.rand(4), first)


@pytest.mark.parametrize("seed", [-1, True, False, 1.5, "42", None])
def test_set_seed_rejects_non_natural_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        repro.set_seed(seed)


def test_set_seed_accepts_zero():
    repro.set_seed(0)
    assert np.random.rand() == np.random.RandomState(0).rand()


def test_strict_determinism_enables_tensorflow_op_determinism(monkeypatch):
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: calls.append(1))
    repro.set_seed(0, strict_determinism=True)
    assert calls == [1]


def test_set_seed_by_default_leaves_op_determinism_off_so_xla_stays_allowed(monkeypatch):
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: calls.append(1))
    repro.set_seed(0)
    assert calls == []


TRAIN_TWICE_SCRIPT = """
import hashlib
import numpy as np
from course_utils import models, repro, train
repro.set_seed(7)
x = np.random.default_rng(0).normal(size=(512, 784)).astype("float32")
y = np.eye(10, dtype="float32")[np.random.default_rng(1).integers(0, 10, 512)]
model = train.compile_model(models.baseline_mlp())
model.fit(x, y, epochs=2, batch_size=32, verbose=0)
weights = b"".join(w.tobytes() for w in model.get_weights())
print(model.jit_compile, hashlib.sha256(weights).hexdigest())
"""


@pytest.mark.slow
def test_seeded_xla_training_is_bitwise_repeatable_across_processes():
    """The reason op determinism is opt-in: on a CPU, XLA training repeats exactly without it."""
    processes = [subprocess.Popen([sys.executable, "-c", TRAIN_TWICE_SCRIPT], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]  # side by side: each is a fresh process either way
    runs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        runs.append(out.split()[-2:])
    assert runs[0][0] == "True", "XLA was not used"
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    ("key", "user_value"),
    [("TF_CPP_MIN_LOG_LEVEL", "0"), ("PYTHONHASHSEED", "123"), ("KERAS_BACKEND", "jax")],
)
def test_configure_environment_keeps_user_values(monkeypatch, key, user_value):
    monkeypatch.setenv(key, user_value)
    repro.configure_environment()
    assert os.environ[key] == user_value


@pytest.mark.parametrize(
    ("key", "course_value"),
    [("TF_CPP_MIN_LOG_LEVEL", "2"), ("TF_ENABLE_ONEDNN_OPTS", "0"), ("PYTHONHASHSEED", "0"),
     ("KERAS_BACKEND", "tensorflow")],
)
def test_configure_environment_sets_unset_values(monkeypatch, key, course_value):
    monkeypatch.delenv(key, raising=False)
    repro.configure_environment()
    assert os.environ[key] == course_value


def test_importing_course_utils_sets_the_environment_in_a_fresh_interpreter():
    env = {k: v for k, v in os.environ.items() if k not in repro.COURSE_ENVIRONMENT}
    code = "import json, os, course_utils; print(json.dumps(dict(os.environ)))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
        cwd=REPO,
    )
    child = json.loads(result.stdout)
    assert {key: child.get(key) for key in repro.COURSE_ENVIRONMENT} == repro.COURSE_ENVIRONMENT


def test_cpu_signature_names_the_model_and_its_arithmetic_extensions(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Example CPU 9000\n"
                       "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_vnni\n\n"
                       "processor\t: 1\nmodel name\t: Example CPU 9000\n"
                       "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_vnni\n")
    assert repro.cpu_signature(cpuinfo) == "Example CPU 9000 avx avx2 fma avx512f avx512_vnni"


def test_cpu_signature_tells_apart_cpus_of_one_name_with_other_extensions(tmp_path):
    with_vnni, without = tmp_path / "a", tmp_path / "b"
    with_vnni.write_text("model name\t: AMD EPYC\nflags\t: avx avx2 avx512f avx512_vnni\n")
    without.write_text("model name\t: AMD EPYC\nflags\t: avx avx2\n")
    assert repro.cpu_signature(with_vnni) != repro.cpu_signature(without)


def test_cpu_signature_without_cpuinfo_falls_back_to_the_platform(tmp_path):
    assert repro.cpu_signature(tmp_path / "missing") == (platform.processor() or platform.machine())
