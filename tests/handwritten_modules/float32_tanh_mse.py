"""3-4-2 MLP computed in float32: tanh hidden layer, identity output, mse, rows convention.

Hand-written gradient module (SPEC §6 interface).  Every computation casts its inputs to
``DTYPE`` (float32), as float32 code does: the loss cannot resolve float64 inputs, and the
gradients carry float32 rounding.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

DTYPE = np.float32
PARAM_SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1)}


def init_params(rng=None):
    """Xavier/Glorot normal weights, small normal biases, in float32."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    params = {}
    for name, shape in PARAM_SHAPES.items():
        scale = np.sqrt(2.0 / sum(shape)) if name.startswith("W") else 0.1
        params[name] = rng.normal(0.0, scale, size=shape).astype(DTYPE)
    return params


def _cast(params, X):
    return {k: np.asarray(v, dtype=DTYPE) for k, v in params.items()}, np.asarray(X, DTYPE)


def forward(params, X):
    params, X = _cast(params, X)
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    return Z2, {"A1": A1}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    Y = np.asarray(Y, DTYPE)
    return float(np.mean(DTYPE(0.5) * np.sum((Y - Yhat) ** 2, axis=0)))


def gradients(params, X, Y):
    Yhat, cache = forward(params, X)
    params, X = _cast(params, X)
    Y = np.asarray(Y, DTYPE)
    N = X.shape[1]
    D2 = (Yhat - Y) / DTYPE(N)
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    D1 = (params["W2"].T @ D2) * (1 - cache["A1"] ** 2)
    dW1 = D1 @ X.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
