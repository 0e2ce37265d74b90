"""Independent truth for tests: a hand-written NumPy forward pass and loss, sharing no code
with the engine (no SymPy, no printer), plus central finite differences."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "step": lambda z: (z >= 0).astype(float),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "softmax": lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0),
    "swish": lambda z: z / (1 + np.exp(-z)),
}

LOSSES = {
    "mse": lambda p, y: 0.5 * (y - p) ** 2,
    "squared": lambda p, y: (y - p) ** 2,
    "l1": lambda p, y: np.abs(y - p),
    "huber": lambda p, y: np.where(np.abs(p - y) <= 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5),
    "logistic": lambda p, y: np.log1p(np.exp(-y * p)),
    "hinge": lambda p, y: np.maximum(0, 1 - y * p),
    "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
    "cross_entropy": lambda p, y: -y * np.log(p),
    "logcosh": lambda p, y: np.log(np.cosh(p - y)),
}


def forward(params, X, activations, convention):
    a = X
    for j, act in enumerate(activations, start=1):
        W = params[f"W{j}"]
        if convention == "rows":
            z = W @ a + params[f"b{j}"]
        elif convention == "columns":
            z = W.T @ a + params[f"b{j}"]
        else:
            z = W @ np.vstack([np.ones((1, a.shape[1])), a])
        a = ACTIVATIONS[act](z)
    return a


def batch_loss(params, X, Y, activations, loss, convention, reduction="mean"):
    per_sample = LOSSES[loss](forward(params, X, activations, convention), Y).sum(0)
    return per_sample.mean() if reduction == "mean" else per_sample.sum()


def central_differences(f, params, h=1e-6):
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            orig = value[idx]
            value[idx] = orig + h
            up = f(params)
            value[idx] = orig - h
            down = f(params)
            value[idx] = orig
            g[idx] = (up - down) / (2 * h)
        grads[name] = g
    return grads


def targets(kind, n, N, rng):
    if kind == "binary":
        return rng.uniform(0.05, 0.95, size=(n, N))
    if kind == "sign":
        return rng.choice([-1.0, 1.0], size=(n, N))
    if kind == "simplex":
        y = rng.uniform(0.1, 1.0, size=(n, N))
        return y / y.sum(0)
    return rng.normal(size=(n, N))
