"""2-2-1 MLP, sigmoid layers, binary cross-entropy, batch mean, with a deliberate bug.

The bug: the square first-layer gradient is transposed.

Hand-written gradient module (SPEC §6 interface) that ``verify code`` must reject and name
(missing_transpose).  X is 2 × N, Y is 1 × N with entries 0/1.
"""

import numpy as np

PARAM_SHAPES = {"W1": (2, 2), "b1": (2, 1), "W2": (1, 2), "b2": (1, 1)}


def init_params(rng=None):
    """Normal weights (scale 0.8), small nonzero biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: 0.8 * rng.standard_normal(shape) for name, shape in PARAM_SHAPES.items()}


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = sigmoid(Z1)
    A2 = sigmoid(params["W2"] @ A1 + params["b2"])
    return A2, {"A1": A1}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    return float(np.mean(-np.sum(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat), axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    A1 = cache["A1"]
    D2 = (Yhat - Y) / N
    D1 = (params["W2"].T @ D2) * A1 * (1 - A1)
    grads = {"W1": D1 @ X.T, "b1": D1.sum(axis=1, keepdims=True), "W2": D2 @ A1.T,
             "b2": D2.sum(axis=1, keepdims=True)}
    grads["W1"] = grads["W1"].T  # the bug: transposed
    return grads
