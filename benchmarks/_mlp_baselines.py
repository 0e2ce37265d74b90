"""Baselines for the generated gradient code: a hand-written NumPy pass and PyTorch eager.

Both implement the network the generated module implements: rows convention (Z_l = W_l A_{l-1}
+ b_l 1ᵀ, W_l of shape n_l × n_{l-1}, b_l of shape n_l × 1), samples as the columns of X
(n_0 × N), relu hidden layers, and an output activation fused with its loss, averaged over the
batch.  The NumPy one is written the way a careful engineer writes it by hand: forward values
cached, ``Z > 0`` masks kept for the backward pass, a stable softmax / sigmoid, the 1/N folded
once into the output signal, the backward signal updated in place.

Glossary: Z_l, A_l pre-activations and activations of layer l (n_l × N); D_l = ∂J/∂Z_l
(n_l × N); N the batch size; L the depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


# --- output layers: activation fused with its loss ----------------------------------------------

def _log_softmax(Z):
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _sigmoid(Z):
    return np.exp(-np.logaddexp(0.0, -Z))


@dataclass(frozen=True)
class Output:
    """An output activation and its loss, as functions of Z_L and the targets Y (n_L × N).

    ``cost`` is the summed per-sample loss (divide by N for the batch mean); ``signal`` is
    ∂cost/∂Z_L; ``torch_cost`` is ``cost`` in PyTorch (``(torch, Z, Y) -> scalar tensor``).
    """

    cost: Callable
    signal: Callable
    torch_cost: Callable


OUTPUTS = {
    ("softmax", "cross_entropy"): Output(
        cost=lambda Z, Y: -np.sum(Y * _log_softmax(Z)),
        signal=lambda Z, Y: _softmax(Z) - Y,
        torch_cost=lambda torch, Z, Y: -(Y * torch.log_softmax(Z, dim=0)).sum()),
    ("sigmoid", "bce"): Output(
        cost=lambda Z, Y: np.sum(np.logaddexp(0.0, Z) - Y * Z),
        signal=lambda Z, Y: _sigmoid(Z) - Y,
        torch_cost=lambda torch, Z, Y: torch.nn.functional.binary_cross_entropy_with_logits(
            Z, Y, reduction="sum")),
}


def output_layer(activation: str, loss: str) -> Output:
    """The fused output of ``activation`` + ``loss``; an actionable error for other pairs."""
    try:
        return OUTPUTS[(activation, loss)]
    except KeyError:
        known = ", ".join(f"{a} + {l}" for a, l in OUTPUTS)
        raise ValueError(f"no baseline for output {activation} + {loss}; known: {known}") \
            from None


# --- the hand-written NumPy pass ----------------------------------------------------------------

class NumpyMLP:
    """Hand-written vectorised forward and backward pass of a relu MLP.

    Parameters
    ----------
    depth : int
        L, the number of layers.
    output : Output
        The fused output activation and loss (:func:`output_layer`).

    ``loss(params, X, Y)`` and ``gradients(params, X, Y)`` take params ``{"W1": (n_1, n_0),
    "b1": (n_1, 1), …}``, X (n_0 × N) and Y (n_L × N), as the generated module does.
    """

    def __init__(self, depth: int, output: Output):
        self.depth = depth
        self.output = output

    def loss(self, params, X, Y) -> float:
        A = X
        for l in range(1, self.depth):
            A = np.maximum(params[f"W{l}"] @ A + params[f"b{l}"], 0.0)
        Z = params[f"W{self.depth}"] @ A + params[f"b{self.depth}"]
        return float(self.output.cost(Z, Y) / X.shape[1])

    def gradients(self, params, X, Y) -> dict:
        N = X.shape[1]
        A, activations, masks = X, [X], []
        for l in range(1, self.depth):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            mask = Z > 0
            A = Z * mask
            masks.append(mask)
            activations.append(A)
        Z = params[f"W{self.depth}"] @ A + params[f"b{self.depth}"]
        D = self.output.signal(Z, Y)
        D /= N
        grads = {}
        for l in range(self.depth, 0, -1):
            grads[f"W{l}"] = D @ activations[l - 1].T
            grads[f"b{l}"] = D.sum(axis=1, keepdims=True)
            if l > 1:
                D = params[f"W{l}"].T @ D
                D *= masks[l - 2]
        return {name: grads[name] for name in params}


# --- PyTorch eager autograd ---------------------------------------------------------------------

class TorchMLP:
    """The same network in PyTorch, differentiated by eager autograd.

    ``gradients(leaves, X, Y)`` takes the parameters as leaf tensors with ``requires_grad``
    (:meth:`leaves`), X and Y as tensors, and returns a dict of gradient tensors, one
    ``torch.autograd.grad`` call per evaluation (no ``.grad`` accumulation to reset).
    """

    def __init__(self, torch, depth: int, output: Output):
        self.torch = torch
        self.depth = depth
        self.output = output

    def leaves(self, params) -> dict:
        return {name: self.torch.from_numpy(value).requires_grad_()
                for name, value in params.items()}

    def gradients(self, leaves, X, Y) -> dict:
        torch = self.torch
        A = X
        for l in range(1, self.depth):
            A = torch.relu(leaves[f"W{l}"] @ A + leaves[f"b{l}"])
        Z = leaves[f"W{self.depth}"] @ A + leaves[f"b{self.depth}"]
        cost = self.output.torch_cost(torch, Z, Y) / X.shape[1]
        grads = torch.autograd.grad(cost, list(leaves.values()))
        return dict(zip(leaves, grads))


# --- FLOP counts ----------------------------------------------------------------------------------

def backward_products(sizes, N: int) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """The matrix products of the backward pass, last layer first.

    For layer l: ∇W_l = D_l A_{l-1}ᵀ, (n_l × N)(N × n_{l-1}); for l > 1 also the signal
    W_lᵀ D_l, (n_{l-1} × n_l)(n_l × N).  Returns (label, left shape, right shape) triples.
    """
    products = []
    for l in range(len(sizes) - 1, 0, -1):
        products.append((f"D{l} A{l - 1}^T", (sizes[l], N), (N, sizes[l - 1])))
        if l > 1:
            products.append((f"W{l}^T D{l}", (sizes[l - 1], sizes[l]), (sizes[l], N)))
    return products


def forward_products(sizes, N: int) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """The matrix products of the forward pass: W_l A_{l-1}, (n_l × n_{l-1})(n_{l-1} × N)."""
    return [(f"W{l} A{l - 1}", (sizes[l], sizes[l - 1]), (sizes[l - 1], N))
            for l in range(1, len(sizes))]


def matmul_flops(products) -> int:
    """2·m·k·n per product (m × k)(k × n): one multiply and one add per term."""
    return sum(2 * left[0] * left[1] * right[1] for _, left, right in products)


def product_operands(products, dtype, rng: np.random.Generator) -> list[tuple]:
    """Random operands laid out as in a backward pass: a transposed factor is a ``.T`` view
    of a C-ordered array, as ``A.T`` and ``W.T`` are there."""
    operands = []
    for label, left, right in products:
        a = (rng.standard_normal(left[::-1]).astype(dtype).T if label.startswith("W")
             else rng.standard_normal(left).astype(dtype))
        b = (rng.standard_normal(right[::-1]).astype(dtype).T if label.endswith("^T")
             else rng.standard_normal(right).astype(dtype))
        operands.append((a, b))
    return operands
