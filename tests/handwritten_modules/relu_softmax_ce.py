"""4-5-5-3 MLP: relu, relu, softmax output, cross-entropy on one-hot targets, rows convention.

Hand-written gradient module (SPEC §6 interface).  Y is 3 × N with one-hot columns.  The loss
uses log-sum-exp; softmax + cross-entropy gives ∂J/∂Z3 = (ŷ − y)/N since Σ_k y_k = 1.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

PARAM_SHAPES = {"W1": (5, 4), "b1": (5, 1), "W2": (5, 5), "b2": (5, 1),
                "W3": (3, 5), "b3": (3, 1)}


def init_params(rng=None):
    """He normal weights, small positive biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    params = {}
    for name, shape in PARAM_SHAPES.items():
        if name.startswith("W"):
            params[name] = rng.normal(0.0, np.sqrt(2.0 / shape[1]), size=shape)
        else:
            params[name] = np.full(shape, 0.01)
    return params


def _log_softmax(Z):
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.maximum(Z1, 0.0)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = np.maximum(Z2, 0.0)
    Z3 = params["W3"] @ A2 + params["b3"]
    A3 = np.exp(_log_softmax(Z3))
    return A3, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2, "Z3": Z3}


def loss(params, X, Y):
    _, cache = forward(params, X)
    return float(-np.mean(np.sum(Y * _log_softmax(cache["Z3"]), axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D3 = (Yhat - Y) / N
    dW3 = D3 @ cache["A2"].T
    db3 = D3.sum(axis=1, keepdims=True)
    D2 = (params["W3"].T @ D3) * (cache["Z2"] > 0)
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    D1 = (params["W2"].T @ D2) * (cache["Z1"] > 0)
    dW1 = D1 @ X.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
