"""course_utils.frameworks.implementations: the same MLP, initialised alike, in each framework."""

from __future__ import annotations

import numpy as np

from course_utils.frameworks import implementations


def test_torch_and_keras_start_from_the_same_initialisation() -> None:
    import torch

    model = implementations.build_torch(seed=0)
    linear = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
    assert [layer.weight.shape[1] for layer in linear] == [784, 256, 128]
    for layer in linear:
        fan_out, fan_in = layer.weight.shape
        limit = np.sqrt(6 / (fan_in + fan_out))
        assert float(layer.weight.detach().abs().max()) <= limit
        assert float(layer.bias.detach().abs().max()) == 0.0


def test_numpy_training_lowers_the_loss() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    labels = (x[:, :10].argmax(axis=1)).astype(np.int64)  # a learnable rule
    params = implementations.build_numpy(seed=0)
    before = np.mean(implementations.predict_numpy(params, x) == labels)
    epochs_done = []
    params = implementations.train_numpy(params, x, labels, 20, 32, lambda: epochs_done.append(1))
    assert len(epochs_done) == 20
    assert np.mean(implementations.predict_numpy(params, x) == labels) > before + 0.3
