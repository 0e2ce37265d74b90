"""2-3-2 MLP in the Mines course's augmented convention: W̃_l = [ω_0 | W] (n_l × (1 + n_{l-1})),
s = W̃ ṽ with ṽ = [1; v]; tanh hidden layer, sigmoid output, squared loss ‖y − ŷ‖², summed over
the batch (reduction "sum").

Hand-written gradient module (SPEC §6 interface): parameters ``W1, W2`` only.

Glossary: S_l, V_l pre-activations and activations (n_l × N); E_l = ∂J/∂S_l (Mines's E^{(l)}).
"""

import numpy as np

PARAM_SHAPES = {"W1": (3, 3), "W2": (2, 4)}


def init_params(rng=None):
    """Xavier/Glorot uniform over the non-bias columns; bias column 0."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    params = {}
    for name, (n_out, n_cols) in PARAM_SHAPES.items():
        bound = np.sqrt(6.0 / (n_out + n_cols - 1))
        W = rng.uniform(-bound, bound, size=(n_out, n_cols))
        W[:, 0] = 0.0
        params[name] = W
    return params


def _augment(V):
    return np.vstack([np.ones((1, V.shape[1])), V])


def forward(params, X):
    S1 = params["W1"] @ _augment(X)
    V1 = np.tanh(S1)
    S2 = params["W2"] @ _augment(V1)
    V2 = 1.0 / (1.0 + np.exp(-S2))
    return V2, {"S1": S1, "V1": V1, "S2": S2}


def loss(params, X, Y):
    Yhat, _ = forward(params, X)
    return float(np.sum((Y - Yhat) ** 2))


def gradients(params, X, Y):
    Yhat, cache = forward(params, X)
    E2 = 2 * (Yhat - Y) * Yhat * (1 - Yhat)
    dW2 = E2 @ _augment(cache["V1"]).T
    E1 = (params["W2"][:, 1:].T @ E2) * (1 - cache["V1"] ** 2)
    dW1 = E1 @ _augment(X).T
    return {"W1": dW1, "W2": dW2}
