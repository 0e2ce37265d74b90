"""2-3-1 MLP: sigmoid layers, binary cross-entropy, rows convention (z = W a + b), batch mean.

Hand-written gradient module (SPEC §6 interface).  X is 2 × N, Y is 1 × N with entries 0/1.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

PARAM_SHAPES = {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}


def init_params(rng=None):
    """Xavier/Glorot uniform weights, zero biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    params = {}
    for name, shape in PARAM_SHAPES.items():
        if name.startswith("W"):
            bound = np.sqrt(6.0 / (shape[0] + shape[1]))
            params[name] = rng.uniform(-bound, bound, size=shape)
        else:
            params[name] = np.zeros(shape)
    return params


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = sigmoid(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = sigmoid(Z2)
    return A2, {"A0": X, "Z1": Z1, "A1": A1, "Z2": Z2}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    per_sample = -np.sum(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat), axis=0)
    return float(np.mean(per_sample))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D2 = (Yhat - Y) / N                        # sigmoid + BCE: dJ/dZ2 = (yhat - y) / N
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    D1 = (params["W2"].T @ D2) * cache["A1"] * (1 - cache["A1"])
    dW1 = D1 @ X.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
