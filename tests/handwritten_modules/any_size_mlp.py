"""An MLP of any sizes: tanh hidden layers, softmax output, cross-entropy on one-hot targets,
rows convention (z = W a + b), batch mean.

Hand-written gradient module (SPEC §6 interface).  The sizes are read from the parameters, so
one module serves every width and depth: ``PARAM_SHAPES`` and ``init_params`` describe the
default ``DEFAULT_SIZES``; ``param_shapes(sizes)`` and ``init_params(rng, sizes)`` any other.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

DEFAULT_SIZES = (4, 8, 3)


def param_shapes(sizes):
    shapes = {}
    for l in range(1, len(sizes)):
        shapes[f"W{l}"] = (sizes[l], sizes[l - 1])
        shapes[f"b{l}"] = (sizes[l], 1)
    return shapes


PARAM_SHAPES = param_shapes(DEFAULT_SIZES)


def init_params(rng=None, sizes=DEFAULT_SIZES):
    """Xavier/Glorot normal weights, zero biases."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: (rng.normal(0.0, np.sqrt(2.0 / sum(shape)), size=shape)
                   if name.startswith("W") else np.zeros(shape))
            for name, shape in param_shapes(sizes).items()}


def _depth(params):
    return len(params) // 2


def _log_softmax(Z):
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))


def forward(params, X):
    A, activations = X, [X]
    L = _depth(params)
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = np.tanh(Z) if l < L else np.exp(_log_softmax(Z))
        activations.append(A)
    return A, {"A": activations, "Z": Z}


def loss(params, X, Y):
    _, cache = forward(params, X)
    return float(-np.mean(np.sum(Y * _log_softmax(cache["Z"]), axis=0)))


def gradients(params, X, Y):
    N = X.shape[1]
    Yhat, cache = forward(params, X)
    A = cache["A"]
    grads = {}
    D = (Yhat - Y) / N
    for l in range(_depth(params), 0, -1):
        grads[f"W{l}"] = D @ A[l - 1].T
        grads[f"b{l}"] = D.sum(axis=1, keepdims=True)
        if l > 1:
            D = (params[f"W{l}"].T @ D) * (1 - A[l - 1] ** 2)
    return {name: grads[name] for name in params}
