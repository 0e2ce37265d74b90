"""3-4-1 MLP: relu hidden layer and relu output, hinge loss max(0, 1 − y ŷ) on ±1 targets, rows
convention, batch mean.

Hand-written gradient module (SPEC §6 interface) whose default point is often uninformative:
with Xavier weights and zero biases the output relu is dead for every sample at some seeds, and
then every gradient entry and every central difference is exactly 0.  The subgradients at the
kinks are relu'(0) = 0 (PyTorch's convention, the mask Z > 0) and hinge'(1) = 0.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

TARGETS = "sign"
SIZES = (3, 4, 1)
PARAM_SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)}


def init_params(rng=None):
    """Xavier/Glorot normal weights, zero biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: (rng.normal(0.0, np.sqrt(2.0 / sum(shape)), size=shape)
                   if name.startswith("W") else np.zeros(shape))
            for name, shape in PARAM_SHAPES.items()}


def forward(params, X):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.maximum(Z1, 0.0)
    Z2 = params["W2"] @ A1 + params["b2"]
    return np.maximum(Z2, 0.0), {"Z1": Z1, "A1": A1, "Z2": Z2}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    return float(np.mean(np.sum(np.maximum(0.0, 1.0 - Y * Yhat), axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    D2 = -Y * (1.0 - Y * Yhat > 0) * (cache["Z2"] > 0) / N
    dW2 = D2 @ cache["A1"].T
    db2 = D2.sum(axis=1, keepdims=True)
    D1 = (params["W2"].T @ D2) * (cache["Z1"] > 0)
    dW1 = D1 @ X.T
    db1 = D1.sum(axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
