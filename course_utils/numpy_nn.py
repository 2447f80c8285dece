"""A dense network in plain NumPy: forward pass, backpropagation, SGD and Adam (chapter 1).

Chapter 1 derives each piece step by step; these are the same formulas gathered into functions
so that later chapters (the framework comparison in chapter 7) can reuse them. Shapes follow
Keras: inputs are ``(batch, features)``, a layer's weights are ``(inputs, outputs)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "Adam",
    "DenseParams",
    "backward",
    "cross_entropy",
    "dense_forward",
    "forward",
    "init_params",
    "relu",
    "relu_grad",
    "sgd_step",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "tanh",
    "tanh_grad",
]


def relu(z: np.ndarray) -> np.ndarray:
    """max(0, z), element-wise."""
    return np.maximum(z, 0.0)


def relu_grad(z: np.ndarray) -> np.ndarray:
    """Derivative of ReLU: 1 where z > 0, else 0 (the convention at 0, as in TensorFlow)."""
    return (z > 0).astype(np.result_type(z, np.float32))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), computed without overflow for large |z|."""
    z = np.asarray(z)  # a Python float becomes float64 here, not float32 (NumPy 2's weak scalars)
    z = z.astype(np.result_type(z.dtype, np.float32), copy=False)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1 − σ(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, element-wise."""
    return np.tanh(z)


def tanh_grad(z: np.ndarray) -> np.ndarray:
    """tanh'(z) = 1 − tanh(z)²."""
    return 1.0 - np.tanh(z) ** 2


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z) normalised to sum to 1 along ``axis``; the max is subtracted first for stability."""
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, None: None}


def dense_forward(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray, activation: str | None = None
) -> np.ndarray:
    """One dense layer: ``activation(x @ weights + bias)``."""
    x, weights, bias = np.asarray(x), np.asarray(weights), np.asarray(bias)
    if x.ndim != 2 or weights.ndim != 2 or bias.ndim != 1:
        raise ValueError(
            f"expected x (batch, inputs), weights (inputs, outputs), bias (outputs,); "
            f"got {x.shape}, {weights.shape}, {bias.shape}"
        )
    if x.shape[1] != weights.shape[0] or weights.shape[1] != bias.shape[0]:
        raise ValueError(
            f"shapes do not chain: x {x.shape} @ weights {weights.shape} + bias {bias.shape}"
        )
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
    z = x @ weights + bias
    return z if activation is None else ACTIVATIONS[activation](z)


def cross_entropy(probabilities: np.ndarray, y_onehot: np.ndarray, eps: float = 1e-7) -> float:
    """Mean categorical cross-entropy −Σ y log p over a batch (p clipped like Keras does)."""
    if probabilities.shape != y_onehot.shape:
        raise ValueError(f"shapes differ: {probabilities.shape} vs {y_onehot.shape}")
    clipped = np.clip(probabilities, eps, 1.0 - eps)
    return float(-np.mean(np.sum(y_onehot * np.log(clipped), axis=-1)))


@dataclass
class DenseParams:
    """Weights and bias of one dense layer."""

    weights: np.ndarray
    bias: np.ndarray


def init_params(
    layer_sizes: Sequence[int], rng: np.random.Generator, dtype: type = np.float32
) -> list[DenseParams]:
    """Glorot-uniform weights and zero biases, the Keras ``Dense`` defaults."""
    if len(layer_sizes) < 2:
        raise ValueError(f"need at least an input and an output size, got {list(layer_sizes)}")
    params = []
    for n_in, n_out in zip(layer_sizes, layer_sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        weights = rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)
        params.append(DenseParams(weights, np.zeros(n_out, dtype=dtype)))
    return params


def forward(params: list[DenseParams], x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """ReLU hidden layers and a softmax output; returns probabilities and the cache backward needs.

    The cache holds each layer's input followed by its pre-activation ``z``.
    """
    cache: list[np.ndarray] = []
    a = x
    for i, layer in enumerate(params):
        z = a @ layer.weights + layer.bias
        cache += [a, z]
        a = softmax(z) if i == len(params) - 1 else relu(z)
    return a, cache


def backward(
    params: list[DenseParams], cache: list[np.ndarray], probabilities: np.ndarray,
    y_onehot: np.ndarray,
) -> list[DenseParams]:
    """Gradients of the mean cross-entropy with respect to every weight and bias.

    Softmax followed by cross-entropy has the simple gradient (p − y) / batch at the output;
    each earlier layer multiplies by the next layer's weights and by ReLU's derivative.
    """
    batch = len(y_onehot)
    delta = (probabilities - y_onehot) / batch
    grads: list[DenseParams] = []
    for i in reversed(range(len(params))):
        layer_input, z = cache[2 * i], cache[2 * i + 1]
        if i < len(params) - 1:
            delta = delta * relu_grad(z)
        grads.append(DenseParams(layer_input.T @ delta, delta.sum(axis=0)))
        delta = delta @ params[i].weights.T
    return grads[::-1]


def sgd_step(
    params: list[DenseParams], grads: list[DenseParams], learning_rate: float
) -> list[DenseParams]:
    """Plain gradient descent: θ ← θ − η ∇θ. Returns new parameters, leaves the old ones intact."""
    return [
        DenseParams(p.weights - learning_rate * g.weights, p.bias - learning_rate * g.bias)
        for p, g in zip(params, grads)
    ]


@dataclass
class Adam:
    """Adam: gradient descent with a running mean (momentum) and a per-parameter step size.

    Defaults are Keras's: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
    """

    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    step_count: int = 0
    _m: list[np.ndarray] = field(default_factory=list, repr=False)
    _v: list[np.ndarray] = field(default_factory=list, repr=False)

    def step(self, params: list[DenseParams], grads: list[DenseParams]) -> list[DenseParams]:
        """One Adam update; returns new parameters."""
        flat_p = [a for p in params for a in (p.weights, p.bias)]
        flat_g = [a for g in grads for a in (g.weights, g.bias)]
        if not self._m:
            self._m = [np.zeros_like(p) for p in flat_p]
            self._v = [np.zeros_like(p) for p in flat_p]
        self.step_count += 1
        t = self.step_count
        # Keras folds the bias corrections into the step size, as the Adam paper suggests.
        lr = self.learning_rate * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        new_flat = []
        for i, (p, g) in enumerate(zip(flat_p, flat_g)):
            self._m[i] = self.beta_1 * self._m[i] + (1 - self.beta_1) * g
            self._v[i] = self.beta_2 * self._v[i] + (1 - self.beta_2) * g * g
            new_flat.append(p - lr * self._m[i] / (np.sqrt(self._v[i]) + self.epsilon))
        return [DenseParams(w, b) for w, b in zip(new_flat[::2], new_flat[1::2])]
