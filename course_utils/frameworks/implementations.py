"""The chapter 4 MLP, trained the same way in Keras 3, plain PyTorch and NumPy (chapter 7).

Every implementation trains 784-256-128-10 (ReLU, softmax) with the same recipe: Glorot-uniform
weights and zero biases, Adam with learning rate 0.001 and epsilon 1e-7 (Keras's defaults),
mini-batches of the given size drawn in a fresh random order every epoch, cross-entropy on integer
labels. Each comes as a ``build_*`` function that returns a new model and a ``train_*`` function
that trains it and calls ``on_epoch_end()`` after every epoch (the runner times epochs with it).
These two functions are the "model and training code" whose lines chapter 7 counts; they are
written the way a learner would write them, without the course's helpers.

The Keras functions work on whichever backend Keras was imported with (``KERAS_BACKEND``):
TensorFlow, JAX or PyTorch. Frameworks are imported inside the functions, so that importing this
module loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_utils import numpy_nn

__all__ = [
    "ADAM_EPSILON",
    "LAYER_SIZES",
    "LEARNING_RATE",
    "build_keras",
    "build_numpy",
    "build_torch",
    "predict_keras",
    "predict_numpy",
    "predict_torch",
    "train_keras",
    "train_numpy",
    "train_torch",
]

LAYER_SIZES = (784, 256, 128, 10)
LEARNING_RATE = 1e-3
ADAM_EPSILON = 1e-7  # Keras's default; PyTorch's is 1e-8, so it is set explicitly there

EpochHook = Callable[[], None]


# --- Keras 3 (TensorFlow, JAX or PyTorch backend) ------------------------------------------------

def build_keras(seed: int) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def train_keras(model: Any, x: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int,
                on_epoch_end: EpochHook, jit_compile: bool = True) -> None:
    import keras

    # jit_compile=True compiles the step: with XLA on TensorFlow and JAX, torch.compile on PyTorch.
    # On PyTorch, Keras runs one step per call.
    on_torch = keras.backend.backend() == "torch"
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
        loss="sparse_categorical_crossentropy",
        jit_compile=jit_compile,
        steps_per_execution=1 if on_torch else 32,
    )
    model.fit(x, labels, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: on_epoch_end())])


def predict_keras(model: Any, x: np.ndarray) -> np.ndarray:
    """Predicted class of every row of ``x``."""
    return np.asarray(model.predict(x, batch_size=1024, verbose=0)).argmax(axis=1)


# --- plain PyTorch: an explicit training loop ----------------------------------------------------

def build_torch(seed: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),  # logits: CrossEntropyLoss applies the softmax itself
    )
    for layer in model:
        if isinstance(layer, nn.Linear):  # PyTorch's default initialisation differs from Keras's
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def train_torch(model: Any, x: np.ndarray, labels: np.ndarray, epochs: int, batch_size: int,
                on_epoch_end: EpochHook) -> None:
    import torch

    inputs, targets = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
        on_epoch_end()


def predict_torch(model: Any, x: np.ndarray) -> np.ndarray:
    """Predicted class of every row of ``x``."""
    import torch

    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).argmax(dim=1).numpy()


# --- NumPy from scratch: chapter 1's forward and backward pass -----------------------------------

def build_numpy(seed: int) -> list[numpy_nn.DenseParams]:
    return numpy_nn.init_params((784, 256, 128, 10), np.random.default_rng(seed))


def train_numpy(params: list[numpy_nn.DenseParams], x: np.ndarray, labels: np.ndarray,
                epochs: int, batch_size: int, on_epoch_end: EpochHook,
                seed: int = 0) -> list[numpy_nn.DenseParams]:
    rng = np.random.default_rng(seed)
    targets = np.eye(10, dtype=np.float32)[labels]
    optimizer = numpy_nn.Adam(learning_rate=1e-3, epsilon=1e-7)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            probabilities, cache = numpy_nn.forward(params, x[batch])
            grads = numpy_nn.backward(params, cache, probabilities, targets[batch])
            params = optimizer.step(params, grads)
        on_epoch_end()
    return params


def predict_numpy(params: list[numpy_nn.DenseParams], x: np.ndarray) -> np.ndarray:
    """Predicted class of every row of ``x``."""
    probabilities, _ = numpy_nn.forward(params, x)
    return probabilities.argmax(axis=1)
