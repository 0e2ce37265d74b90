"""3-(2·4)-2 MLP with a maxout hidden layer: a_i = max(z_i, z_{i+4}) of z = W1 x + b1 (8 affine
maps, 4 units), identity output, mse, rows convention, batch mean.

Hand-written gradient module (SPEC §6 interface) with kinks where two pieces tie; at a tie the
gradient goes to the first piece (numpy's argmax).

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

UNITS = 4
PARAM_SHAPES = {"W1": (2 * UNITS, 3), "b1": (2 * UNITS, 1), "W2": (2, UNITS), "b2": (2, 1)}


def init_params(rng=None):
    """Normal weights, small normal biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: rng.normal(0.0, 0.6 if name.startswith("W") else 0.1, size=shape)
            for name, shape in PARAM_SHAPES.items()}


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    pieces = np.stack([Z1[:UNITS], Z1[UNITS:]])           # 2 × units × N
    winner = np.argmax(pieces, axis=0)
    A1 = np.max(pieces, axis=0)
    Z2 = params["W2"] @ A1 + params["b2"]
    return Z2, {"A1": A1, "winner": winner}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    return float(np.mean(0.5 * np.sum((Y - Yhat) ** 2, axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D2 = (Yhat - Y) / N
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    DA1 = params["W2"].T @ D2
    D1 = np.vstack([DA1 * (cache["winner"] == 0), DA1 * (cache["winner"] == 1)])
    dW1 = D1 @ X.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
