"""3-4-1 MLP: Heaviside step hidden layer (step(0) = 1), sigmoid output, mse, rows, batch mean.

Hand-written gradient module (SPEC §6 interface).  The loss jumps where a hidden pre-activation
crosses 0; elsewhere step' = 0, so the first layer's gradient is zero.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

PARAM_SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)}


def init_params(rng=None):
    """Normal weights and biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: rng.normal(0.0, 0.7, size=shape) for name, shape in PARAM_SHAPES.items()}


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = (Z1 >= 0).astype(float)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = 1.0 / (1.0 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    return float(np.mean(0.5 * np.sum((Y - Yhat) ** 2, axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D2 = (Yhat - Y) * Yhat * (1 - Yhat) / N
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    return {"W1": np.zeros(PARAM_SHAPES["W1"]), "b1": np.zeros(PARAM_SHAPES["b1"]),
            "W2": dW2, "b2": db2}
