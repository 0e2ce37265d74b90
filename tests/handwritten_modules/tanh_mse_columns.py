"""3-4-2 MLP: tanh layers, mse (½‖y − ŷ‖² per sample), columns convention (ζ = Wᵀa + b, seed
003), batch mean.

Hand-written gradient module (SPEC §6 interface).  W_l is n_{l-1} × n_l: column k is neuron k.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

PARAM_SHAPES = {"W1": (3, 4), "b1": (4, 1), "W2": (4, 2), "b2": (2, 1)}


def init_params(rng=None):
    """Xavier/Glorot normal weights, small normal biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    params = {}
    for name, shape in PARAM_SHAPES.items():
        if name.startswith("W"):
            params[name] = rng.normal(0.0, np.sqrt(2.0 / (shape[0] + shape[1])), size=shape)
        else:
            params[name] = rng.normal(0.0, 0.1, size=shape)
    return params


def forward(params, X):
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    A2 = np.tanh(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    return float(np.mean(0.5 * np.sum((Y - Yhat) ** 2, axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D2 = (Yhat - Y) * (1 - Yhat ** 2) / N
    dW2 = cache["A1"] @ D2.T
    db2 = D2.sum(axis=1, keepdims=True)
    D1 = (params["W2"] @ D2) * (1 - cache["A1"] ** 2)
    dW1 = X @ D1.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
