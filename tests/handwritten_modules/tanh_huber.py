"""3-4-2 MLP: tanh hidden layer, identity output, Huber loss (δ = 1) summed over outputs, rows
convention, batch mean.

Hand-written gradient module (SPEC §6 interface).  Huber is ½r² for |r| ≤ δ and δ(|r| − δ/2)
beyond: its derivative is continuous, its second derivative jumps at |r| = δ.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l;
R = Ŷ − Y the residuals.
"""

import numpy as np

DELTA = 1.0
PARAM_SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1)}


def init_params(rng=None):
    """Normal weights (large enough that residuals straddle δ), zero biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: (rng.normal(0.0, 1.0, size=shape) if name.startswith("W")
                   else np.zeros(shape))
            for name, shape in PARAM_SHAPES.items()}


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"] @ A1 + params["b2"]
    return Z2, {"A1": A1}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    R = np.abs(Yhat - Y)
    per_entry = np.where(R <= DELTA, 0.5 * R ** 2, DELTA * (R - 0.5 * DELTA))
    return float(np.mean(np.sum(per_entry, axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D2 = np.clip(Yhat - Y, -DELTA, DELTA) / N
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    D1 = (params["W2"].T @ D2) * (1 - cache["A1"] ** 2)
    dW1 = D1 @ X.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
