"""Independent truth for tests: a hand-written NumPy forward pass and loss, sharing no code
with the engine (no SymPy, no printer), plus central finite differences.

Activations and losses are looked up by registry name (``"leaky_relu"``), registry text
(``"huber(2)"``) or entry; a parametrised entry (its ``family``) takes its parameter from
:data:`FAMILIES`, so every case of ``tests/cases.py`` has a reference (a test checks it).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from derive.targets import draw_targets

#: Parametrised entries: registry name → parameter → the NumPy function.
FAMILIES = {
    "leaky_relu": lambda alpha: lambda z: np.where(z > 0, z, alpha * z),
    "huber": lambda delta: lambda p, y: np.where(np.abs(p - y) <= delta, 0.5 * (p - y) ** 2,
                                                 delta * (np.abs(p - y) - delta / 2)),
}

ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": FAMILIES["leaky_relu"](0.01),
    "step": lambda z: (z >= 0).astype(float),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "softmax": lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0),
    "swish": lambda z: z / (1 + np.exp(-z)),
}

LOSSES = {
    "mse": lambda p, y: 0.5 * (y - p) ** 2,
    "squared": lambda p, y: (y - p) ** 2,
    "l1": lambda p, y: np.abs(y - p),
    "huber": FAMILIES["huber"](1.0),
    "logistic": lambda p, y: np.log1p(np.exp(-y * p)),
    "hinge": lambda p, y: np.maximum(0, 1 - y * p),
    "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
    "cross_entropy": lambda p, y: -y * np.log(p),
    "logcosh": lambda p, y: np.log(np.cosh(p - y)),
}


def _lookup(table: dict, spec):
    """The NumPy function of a name, a registry text ``name(parameter)`` or an entry."""
    family = getattr(spec, "family", None)
    if family is None and isinstance(spec, str) and spec.endswith(")"):
        family = tuple(spec[:-1].split("(", 1))
    if family is not None:
        return FAMILIES[family[0]](float(Fraction(family[1])))
    return table[getattr(spec, "name", spec)]


def activation(spec):
    """The reference Φ (entrywise on an n × N array; softmax down each column)."""
    return _lookup(ACTIVATIONS, spec)


def loss(spec):
    """The reference ℓ(p, y), entrywise."""
    return _lookup(LOSSES, spec)


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
        a = activation(act)(z)
    return a


def batch_loss(params, X, Y, activations, loss_spec, convention, reduction="mean"):
    per_sample = loss(loss_spec)(forward(params, X, activations, convention), Y).sum(0)
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
    """n × N targets in domain ``kind``, interior points (soft labels), from the one sampler."""
    return draw_targets(kind, (n, N), rng, soft=True)
