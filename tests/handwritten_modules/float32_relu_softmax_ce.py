"""An MLP of any sizes computed in float32: relu hidden layers, softmax output, cross-entropy on
one-hot targets, rows convention (z = W a + b), batch mean.

Hand-written gradient module (SPEC §6 interface), wide by default (32-64-10) so that its
gradient entries are small beside the loss, as in real float32 networks.  Every function casts
its inputs to the module-level ``DTYPE`` (float32), read when called: the loss cannot resolve
float64 inputs, and the same module with ``DTYPE = np.float64`` computes in float64.  The sizes
are read from the parameters; ``param_shapes(sizes)`` and ``init_params(rng, sizes)`` give any
other.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l.
"""

import numpy as np

DTYPE = np.float32
DEFAULT_SIZES = (32, 64, 10)
TARGETS = "simplex"


def param_shapes(sizes):
    shapes = {}
    for l in range(1, len(sizes)):
        shapes[f"W{l}"] = (sizes[l], sizes[l - 1])
        shapes[f"b{l}"] = (sizes[l], 1)
    return shapes


PARAM_SHAPES = param_shapes(DEFAULT_SIZES)


def init_params(rng=None, sizes=DEFAULT_SIZES):
    """He normal weights, small normal biases, in DTYPE."""
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return {name: (rng.normal(0.0, np.sqrt(2.0 / shape[1]), size=shape) if name.startswith("W")
                   else rng.normal(0.0, 0.1, size=shape)).astype(DTYPE)
            for name, shape in param_shapes(sizes).items()}


def _cast(params, X):
    return {k: np.asarray(v, dtype=DTYPE) for k, v in params.items()}, np.asarray(X, DTYPE)


def _log_softmax(Z):
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))


def forward(params, X):
    params, A = _cast(params, X)
    depth = len(params) // 2
    activations, pre = [A], []
    for l in range(1, depth + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = np.maximum(Z, DTYPE(0)) if l < depth else np.exp(_log_softmax(Z))
        activations.append(A)
        pre.append(Z)
    return A, {"A": activations, "Z": pre}


def loss(params, X, Y):
    _, cache = forward(params, X)
    Y = np.asarray(Y, DTYPE)
    return float(-np.mean(np.sum(Y * _log_softmax(cache["Z"][-1]), axis=0)))


def gradients(params, X, Y):
    Yhat, cache = forward(params, X)
    params, X = _cast(params, X)
    Y = np.asarray(Y, DTYPE)
    N = X.shape[1]
    depth = len(params) // 2
    D = (Yhat - Y) / DTYPE(N)
    grads = {}
    for l in range(depth, 0, -1):
        grads[f"W{l}"] = D @ cache["A"][l - 1].T
        grads[f"b{l}"] = D.sum(axis=1, keepdims=True)
        if l > 1:
            D = (params[f"W{l}"].T @ D) * (cache["Z"][l - 2] > 0)
    return {name: grads[name] for name in params}
