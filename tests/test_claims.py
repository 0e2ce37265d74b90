r"""Verdicts on hand-derived gradients and identities (issue 10, items 2-4): a corpus of right
and wrong claims, each with its exact verdict and diagnosis class, and the two commands.

Networks: the default 2-3-1 sigmoid/BCE network and a 2-layer tanh/MSE one (2-3-2), in the
CS229 and Ensimag notations (one sample and, in CS229's, the batch), and the augmented
convention in the Mines notation; identities from the standard tables.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import derive
import verify
from derive.cli import run_commands
from derive.errors import BadInput
from verify.__main__ import COMMANDS
from verify.claims import check_claim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

NETS = {
    "sigmoid_bce": derive.mlp([2, 3, 1], activation="sigmoid", loss="bce"),
    "tanh_mse": derive.mlp([2, 3, 2], activation="tanh", loss="mse"),
    "relu": derive.mlp([2, 3, 1], activations=["relu", "sigmoid"], loss="bce"),
    "square": derive.mlp([2, 2, 2], activation="tanh", loss="mse"),
    "augmented": derive.mlp([2, 3, 1], activation="sigmoid", loss="bce",
                            convention="augmented"),
}

# (notation, network, parameter, layout, claim, verdict, first diagnosis class or None)
NETWORK_CORPUS = [
    # CS229, sigmoid + BCE: δ^{[2]} = a^{[2]} − y (fused)
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]} a^{[1]T},\ \delta^{[2]} = a^{[2]} - y",
     "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}", "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (\hat{y} - y) a^{[1]T}", "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = \delta^{[2]} a^{[1]T}", "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\frac{\partial \mathcal{L}}{\partial W^{[2]}} = a^{[1]} (a^{[2]} - y)", "correct", None),
    ("cs229", "sigmoid_bce", "W2", "denominator",
     r"\frac{\partial \mathcal{L}}{\partial W^{[2]}} = (a^{[2]} - y) a^{[1]T}", "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator", r"a^{[1]} (a^{[2]} - y)", "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = a^{[1]} (a^{[2]} - y)", "incorrect", "missing_transpose"),
    ("cs229", "sigmoid_bce", "W2", "numerator", r"(a^{[2]} - y) a^{[1]T}",
     "incorrect", "layout_swap"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (y - a^{[2]}) a^{[1]T}", "incorrect", "wrong_sign"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = 2(a^{[2]} - y) a^{[1]T}", "incorrect", "extra_factor"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = \frac{1}{2}(a^{[2]} - y) a^{[1]T}",
     "incorrect", "missing_factor"),
    ("cs229", "sigmoid_bce", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})) x^T",
     "correct", None),
    ("cs229", "sigmoid_bce", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = \delta^{[1]} x^{T},\ \delta^{[1]} = W^{[2]T}(a^{[2]} - y)"
     r" \odot a^{[1]} \odot (1 - a^{[1]})", "correct", None),
    ("cs229", "sigmoid_bce", "b1", "numerator",
     r"\nabla_{b^{[1]}} \mathcal{L} = \operatorname{diag}(\sigma'(z^{[1]})) W^{[2]T}(a^{[2]} - y)",
     "correct", None),
    ("cs229", "sigmoid_bce", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}\delta^{[2]}) x^T",
     "incorrect", "missing_activation_derivative"),
    ("cs229", "sigmoid_bce", "b1", "numerator",
     r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T}\delta^{[2]} \odot \sigma(z^{[1]})",
     "incorrect", "wrong_activation_derivative"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) x^T", "invalid", "shape_mismatch"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = \frac{\partial \mathcal{L}}{\partial z^{[2]}} a^{[1]T}",
     "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = a^{[2]} a^{[1]T}", "incorrect", "missing_term"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = \delta^{[3]} a^{[1]T}", "invalid", "other"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[3]} - y) a^{[1]T}", "invalid", "shape_mismatch"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y a^{[1]T}", "invalid", "shape_mismatch"),
    ("cs229", "sigmoid_bce", "W2", "numerator", r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} -",
     "invalid", "other"),
    # CS229, tanh + MSE: δ^{[2]} = (a^{[2]} − y) ⊙ g'(z^{[2]})
    ("cs229", "tanh_mse", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = ((a^{[2]} - y) \odot g'(z^{[2]})) a^{[1]T}",
     "correct", None),
    ("cs229", "tanh_mse", "b2", "numerator",
     r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot (1 - a^{[2]} \odot a^{[2]})",
     "correct", None),
    ("cs229", "tanh_mse", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}",
     "incorrect", "missing_activation_derivative"),
    ("cs229", "tanh_mse", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = a^{[1]} ((a^{[2]} - y) \odot g'(z^{[2]}))^T",
     "incorrect", "missing_transpose"),
    ("cs229", "tanh_mse", "b2", "numerator",
     r"\nabla_{b^{[2]}} \mathcal{L} = (y - a^{[2]}) \odot g'(z^{[2]})", "incorrect", "wrong_sign"),
    ("cs229", "tanh_mse", "b2", "numerator",
     r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot \tanh'(z^{[2]})", "correct", None),
    ("cs229", "tanh_mse", "b2", "numerator",
     r"\nabla_{b^{[2]}} \mathcal{L} = (a^{[2]} - y) \odot \sigma'(z^{[2]})",
     "incorrect", "wrong_activation_derivative"),
    ("cs229", "tanh_mse", "b2", "numerator",
     r"\nabla_{b^{[2]}} \mathcal{L} = 2 (a^{[2]} - y) \odot g'(z^{[2]})",
     "incorrect", "extra_factor"),
    ("cs229", "tanh_mse", "b1", "numerator",
     r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T} \delta^{[2]} \odot g'(z^{[1]}),\ "
     r"\delta^{[2]} = (a^{[2]} - y) \odot g'(z^{[2]})", "correct", None),
    ("cs229", "tanh_mse", "b1", "numerator",
     r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T} \delta^{[2]} \odot g'(z^{[1]}),\ "
     r"\delta^{[2]} = a^{[2]} - y", "incorrect", "missing_activation_derivative"),
    # CS229, relu hidden layer: ten points, so that no region of relu' hides a dropped factor
    ("cs229", "relu", "b1", "numerator",
     r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T}(a^{[2]} - y) \odot g'(z^{[1]})", "correct", None),
    ("cs229", "relu", "b1", "numerator",
     r"\nabla_{b^{[1]}} \mathcal{L} = W^{[2]T}(a^{[2]} - y)",
     "incorrect", "missing_activation_derivative"),
    # CS229, a 2-2-2 tanh/MSE network: every layer the same size, so a neighbouring layer's
    # quantity or an untransposed square matrix has the right shape
    ("cs229", "square", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = ((a^{[2]} - y) \odot g'(z^{[2]})) a^{[2]T}",
     "incorrect", "wrong_layer"),
    ("cs229", "square", "W2", "numerator",
     r"\nabla_{W^{[2]}} \mathcal{L} = ((a^{[2]} - y) \odot g'(z^{[2]})) x^T",
     "incorrect", "wrong_layer"),
    ("cs229", "square", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[1]T}\delta^{[2]} \odot g'(z^{[1]})) x^T",
     "incorrect", "wrong_layer"),
    ("cs229", "square", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]}\delta^{[2]} \odot g'(z^{[1]})) x^T",
     "incorrect", "missing_transpose"),
    ("cs229", "square", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})) x^T",
     "correct", None),
    ("cs229", "square", "W1", "numerator",
     r"\nabla_{W^{[1]}} \mathcal{L} = x (W^{[2]T}\delta^{[2]} \odot g'(z^{[1]}))^T",
     "incorrect", "missing_transpose"),
    ("cs229", "square", "W1", "numerator",
     r"x (W^{[2]T}\delta^{[2]} \odot g'(z^{[1]}))^T", "correct", None),
    ("cs229", "square", "W1", "numerator",
     r"(W^{[2]T}\delta^{[2]} \odot g'(z^{[1]})) x^T", "incorrect", "layout_swap"),
    # CS229, batch form (X, Y, A^{[l]}, Δ^{[l]}, N): the mean over the batch
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} J = \frac{1}{N}(A^{[2]} - Y) A^{[1]T}", "correct", None),
    ("cs229", "sigmoid_bce", "b2", "numerator",
     r"\nabla_{b^{[2]}} J = \frac{1}{N}\Delta^{[2]} \mathbf{1}", "correct", None),
    ("cs229", "sigmoid_bce", "W1", "numerator",
     r"\nabla_{W^{[1]}} J = \frac{1}{N} (W^{[2]T} \Delta^{[2]} \odot g'(Z^{[1]})) X^T",
     "correct", None),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} J = (A^{[2]} - Y) A^{[1]T}", "incorrect", "missing_factor"),
    ("cs229", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{[2]}} J = \frac{1}{N^2}(A^{[2]} - Y) A^{[1]T}", "incorrect", "extra_factor"),
    ("cs229", "sigmoid_bce", "W1", "numerator",
     r"\nabla_{W^{[1]}} J = \frac{1}{N} (W^{[2]T} \Delta^{[2]}) X^T",
     "incorrect", "missing_activation_derivative"),
    ("cs229", "sigmoid_bce", "b2", "numerator",
     r"\frac{1}{N}\sum_{i=1}^N (a^{[2](i)} - y^{(i)})", "correct", None),
    # Mines, augmented convention: W̃^{(l)}, ṽ^{(l)} = [1; v^{(l)}], x̃, E^{(l)} a row, ^t
    ("mines", "augmented", "W2", "numerator",
     r"\nabla_{\tilde{W}^{(2)}} \delta = E^{(2)t} \tilde{v}^{(1)t}", "correct", None),
    ("mines", "augmented", "W2", "numerator",
     r"\frac{\partial \delta}{\partial \tilde{W}^{(2)}} = \tilde{v}^{(1)} E^{(2)}",
     "correct", None),
    ("mines", "augmented", "W2", "numerator",
     r"\nabla_{\tilde{W}^{(2)}} \delta = \tilde{v}^{(1)} E^{(2)}",
     "incorrect", "missing_transpose"),
    ("mines", "augmented", "W1", "numerator",
     r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} E^{(2)t} \odot h'(\mathbf{s}^{(1)}))"
     r" \tilde{x}^{t}", "correct", None),
    ("mines", "augmented", "W1", "numerator",
     r"\nabla_{\tilde{W}^{(1)}} \delta = (W^{(2)t} E^{(2)t}) \tilde{x}^{t}",
     "incorrect", "missing_activation_derivative"),
    ("mines", "augmented", "W1", "numerator",
     r"\nabla_{\tilde{W}^{(1)}} \delta = (\tilde{W}^{(2)t} E^{(2)t} \odot h'(\mathbf{s}^{(1)}))"
     r" \tilde{x}^{t}", "invalid", "shape_mismatch"),
    # Ensimag: α^j, ζ^j, Ω^j, β^j, B^j, Φ
    ("ensimag", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{\Omega^{2}} \mathcal{C} = \mathcal{B}^{2} \alpha^{1T}", "correct", None),
    ("ensimag", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{W^{2}} C = B^{2} a^{1T},\ B^{2} = \alpha^{2} - \rho", "correct", None),
    ("ensimag", "sigmoid_bce", "W1", "numerator",
     r"\nabla_{\Omega^{1}} \mathcal{C} = (\Omega^{2T}\mathcal{B}^{2} \odot \Phi'(\zeta^{1}))"
     r" \alpha^{0T}", "correct", None),
    ("ensimag", "sigmoid_bce", "W2", "numerator",
     r"\nabla_{\Omega^{2}} \mathcal{C} = \alpha^{1} \mathcal{B}^{2}",
     "incorrect", "missing_transpose"),
    ("ensimag", "tanh_mse", "b1", "numerator",
     r"\nabla_{\beta^{1}} \mathcal{C} = \Omega^{2T}\mathcal{B}^{2} \odot \Phi'(\zeta^{1})",
     "correct", None),
    ("ensimag", "tanh_mse", "b1", "numerator",
     r"\nabla_{\beta^{1}} \mathcal{C} = \Omega^{2T}\mathcal{B}^{2} \odot \Phi(\zeta^{1})",
     "incorrect", "wrong_activation_derivative"),
    ("ensimag", "tanh_mse", "b2", "numerator",
     r"\nabla_{\beta^{2}} \mathcal{C} = \frac{1}{2}(\alpha^{2} - \rho) \odot \Phi'(\zeta^{2})",
     "incorrect", "missing_factor"),
    ("ensimag", "tanh_mse", "b2", "numerator",
     r"\nabla_{\beta^{2}} \mathcal{C} = \alpha^{2} - \rho",
     "incorrect", "missing_activation_derivative"),
]

V3 = {"v": (3, 1), "A": (3, 3)}
VN = {"v": ("n", 1), "A": ("n", "n")}
SQUARE = {"A": ("n", "n"), "B": ("n", "n"), "X": ("n", "n")}
LAYER = {"x": ("n", 1), "W": ("m", "n")}
LSQ = {"x": ("n", 1), "W": ("m", "n"), "y": ("m", 1)}

# (expression, variable, shapes, symmetric, layout, claim, verdict, first class or None)
IDENTITY_CORPUS = [
    ("v^T A v", "v", V3, (), "denominator", r"(A + A^T) v", "correct", None),
    ("v^T A v", "v", VN, (), "denominator", r"A v + A^T v", "correct", None),
    ("v^T A v", "v", V3, (), "denominator", r"2 A v", "incorrect", "missing_term"),
    ("v^T A v", "v", V3, (), "denominator", r"A v", "incorrect", "missing_term"),
    ("v^T A v", "v", V3, (), "denominator", r"A v + A^T v + v", "incorrect", "other"),
    ("v^T A v", "v", V3, (), "denominator", r"A v + A^T v,\ A = B", "invalid", "other"),
    ("v^T A v", "v", V3, ("A",), "denominator", r"2 A v", "correct", None),
    ("v^T A v", "v", VN, (), "numerator", r"v^T (A + A^T)", "correct", None),
    ("v^T A v", "v", VN, (), "numerator", r"(A + A^T) v", "incorrect", "layout_swap"),
    ("v^T A v", "v", VN, (), "numerator", r"\nabla_{v} f = (A + A^T) v", "correct", None),
    ("v^T A v", "v", VN, (), "numerator", r"\nabla_{v} f = v^T (A + A^T)",
     "incorrect", "missing_transpose"),
    ("v^T A v", "v", V3, (), "denominator", r"-(A + A^T) v", "incorrect", "wrong_sign"),
    ("x^T x", "x", {"x": ("n", 1)}, (), "denominator", r"2x", "correct", None),
    ("x^T x", "x", {"x": ("n", 1)}, (), "denominator", r"x", "incorrect", "missing_factor"),
    ("A x", "x", {"x": ("n", 1), "A": ("m", "n")}, (), "numerator", r"A", "correct", None),
    ("A x", "x", {"x": ("n", 1), "A": ("m", "n")}, (), "numerator", r"A^T",
     "incorrect", "layout_swap"),
    (r"\operatorname{tr}(A^T (B \odot X))", "X", SQUARE, (), "denominator", r"A \odot B",
     "correct", None),
    (r"\operatorname{tr}(A^T (B \odot X))", "X", SQUARE, (), "denominator", r"A B",
     "incorrect", "hadamard_vs_matmul"),
    (r"\mathbf{1}^T \sigma(W x)", "x", LAYER, (), "numerator", r"\sigma'(W x)^T W",
     "correct", None),
    (r"\mathbf{1}^T \sigma(W x)", "x", LAYER, (), "numerator", r"\mathbf{1}^T W",
     "incorrect", "missing_activation_derivative"),
    (r"\mathbf{1}^T \sigma(W x)", "x", LAYER, (), "numerator", r"\sigma'(W x) \odot W",
     "invalid", "shape_mismatch"),
    (r"\|x\|", "x", {"x": (3, 1)}, (), "denominator", r"\frac{x}{\|x\|}", "correct", None),
    (r"\|x\|^2", "x", {"x": (3, 1)}, (), "denominator", r"x", "incorrect", "missing_factor"),
    (r"\frac{1}{2}\|W x - y\|^2", "W", LSQ, (), "denominator", r"(W x - y) x^T", "correct",
     None),
    (r"\frac{1}{2}\|W x - y\|^2", "W", LSQ, (), "numerator",
     r"\nabla_{W} f = x (W x - y)^T", "incorrect", "missing_transpose"),
    (r"\frac{1}{2}\|W x - y\|^2", "W", LSQ, (), "numerator", r"x (W x - y)^T", "correct",
     None),
    (r"\frac{1}{2}\|W x - y\|^2", "W", LSQ, (), "denominator", r"W x x^T", "incorrect",
     "missing_term"),
    # the order of a product
    ("A B x", "x", {"A": (3, 3), "B": (3, 3), "x": (3, 1)}, (), "numerator", r"A B", "correct",
     None),
    ("A B x", "x", {"A": (3, 3), "B": (3, 3), "x": (3, 1)}, (), "numerator", r"B A",
     "incorrect", "wrong_order"),
    ("a^T X b", "X", {"a": (3, 1), "X": (3, 2), "b": (2, 1)}, (), "denominator", r"a b^T",
     "correct", None),
    ("a^T X b", "X", {"a": (3, 1), "X": (3, 2), "b": (2, 1)}, (), "denominator", r"b^T a",
     "invalid", "wrong_order"),
    ("a^T X b", "X", {"a": (3, 1), "X": (3, 3), "b": (3, 1)}, (), "denominator", r"b a^T",
     "incorrect", "layout_swap"),
    # the product rule
    (r"\mathbf{1}^T (x \odot \sigma(x))", "x", {"x": (3, 1)}, (), "denominator",
     r"\sigma(x) + x \odot \sigma'(x)", "correct", None),
    (r"\mathbf{1}^T (x \odot \sigma(x))", "x", {"x": (3, 1)}, (), "denominator", r"\sigma(x)",
     "incorrect", "missing_term"),
    # Durham: the Jacobian J_f of f(x) = W x + b, m × n whatever the layout
    ("f(x) = W x + b", "x", {"W": (3, 2), "b": (3, 1), "x": (2, 1)}, (), "denominator",
     r"J_f = W", "correct", None),
    ("W x + b", "x", {"W": (3, 2), "b": (3, 1), "x": (2, 1)}, (), "numerator", r"J_f = W^T",
     "incorrect", "layout_swap"),
    (r"\sigma(W x + b)", "x", {"W": (3, 2), "b": (3, 1), "x": (2, 1)}, (), "numerator",
     r"J_f = \operatorname{diag}(\sigma'(W x + b)) W", "correct", None),
    (r"\sigma(W x + b)", "x", {"W": (3, 2), "b": (3, 1), "x": (2, 1)}, (), "numerator",
     r"J_f = W", "incorrect", "missing_activation_derivative"),
    # block matrices in a claim
    ("u^T x", "x", {"u": (2, 1), "x": (2, 1)}, (), "numerator",
     r"\begin{bmatrix} 1 & 0 \end{bmatrix} u \, \begin{bmatrix} 1 & 0 \end{bmatrix} + "
     r"\begin{bmatrix} 0 & 1 \end{bmatrix} u \, \begin{bmatrix} 0 & 1 \end{bmatrix}", "correct",
     None),
    ("x^T x", "x", {"x": (2, 1)}, (), "denominator",
     r"\begin{bmatrix} 2 & 0 \\ 0 & 2 \end{bmatrix} x", "correct", None),
    ("x^T x", "x", {"x": (2, 1)}, (), "denominator",
     r"\begin{bmatrix} 2 & 0 \\ 0 & 1 \end{bmatrix} x", "incorrect", "other"),
]


def _classes(verdict) -> list:
    return [d.cls for d in verdict.diagnosis]


@pytest.mark.parametrize("notation, net, wrt, layout, claim, expected, cls", NETWORK_CORPUS)
def test_network_claims(notation, net, wrt, layout, claim, expected, cls):
    verdict = check_claim(claim, NETS[net], wrt=wrt, layout=layout, notation=notation)
    assert verdict.verdict == expected, verdict.to_text()
    if cls is None:
        assert verdict.diagnosis == []
        assert verdict.counterexample is None
    else:
        assert _classes(verdict)[0] == cls, verdict.to_text()
    if expected == "incorrect":
        example = verdict.counterexample
        assert set(example) == {"point", "claimed", "true"}
        assert {"W1", "W2"} <= set(example["point"])
        assert {"x", "y"} <= set(example["point"]) or {"X", "Y"} <= set(example["point"])
        assert example["claimed"] != example["true"]


@pytest.mark.parametrize("expr, wrt, shapes, symmetric, layout, claim, expected, cls",
                         IDENTITY_CORPUS)
def test_identity_claims(expr, wrt, shapes, symmetric, layout, claim, expected, cls):
    verdict = check_claim(claim, expr, wrt=wrt, shapes=shapes, symmetric=symmetric,
                          layout=layout)
    assert verdict.verdict == expected, verdict.to_text()
    if cls is None:
        assert verdict.diagnosis == []
    else:
        assert _classes(verdict)[0] == cls, verdict.to_text()


def test_verdict_json_is_spec_7():
    verdict = check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = 2(a^{[2]} - y) a^{[1]T}",
                          NETS["sigmoid_bce"], wrt="W2", notation="cs229")
    document = json.loads(json.dumps(verdict.as_dict()))
    assert list(document) == ["verdict", "method", "diagnosis", "counterexample"]
    assert document["verdict"] == "incorrect" and document["method"] == "rational_points"
    assert document["diagnosis"][0] == {
        "class": "extra_factor", "detail": "the claim is 2 times the true value "
                                           "(an extra factor 2)"}
    # the inputs are exact rationals; the target of BCE is a label
    assert document["counterexample"]["point"]["y"] in ([["0"]], [["1"]])


def test_method_is_named():
    exact = check_claim(r"(A + A^T) v", "v^T A v", wrt="v", shapes=V3, layout="denominator")
    points = check_claim(r"a^{[1]} (a^{[2]} - y)", NETS["sigmoid_bce"], wrt="W2",
                         notation="cs229")
    assert (exact.method, points.method) == ("exact", "rational_points")
    assert "50-digit" in points.to_text()


def test_bad_arguments_raise():
    from derive.errors import BadInput
    with pytest.raises(BadInput, match="no parameter named 'W7'"):
        check_claim("x", NETS["sigmoid_bce"], wrt="W7", notation="cs229")
    with pytest.raises(BadInput, match="layout"):
        check_claim("x", NETS["sigmoid_bce"], wrt="W1", layout="sideways")


# --- the commands -----------------------------------------------------------------------------

SPEC = """[network]
sizes = [2, 3, 1]
activation = "sigmoid"
loss = "bce"
[output]
notation = "cs229"
"""


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(SPEC)
    return str(path)


def _run(argv, capsys):
    status = run_commands("python -m verify", "", COMMANDS, argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("claim, status, first", [
    (r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) a^{[1]T}", 0, "correct"),
    (r"\nabla_{W^{[2]}} \mathcal{L} = a^{[1]} (a^{[2]} - y)", 1, "incorrect: missing transpose"),
    (r"\nabla_{W^{[2]}} \mathcal{L} = (y - a^{[2]}) a^{[1]T}", 1, "incorrect: wrong sign"),
    (r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]} - y) x^T", 2, "invalid: shape mismatch"),
])
def test_gradient_command(spec, capsys, claim, status, first):
    code, out, err = _run(["gradient", "--spec", spec, "--wrt", "W2", "--claimed", claim],
                          capsys)
    assert code == status
    lines = out.splitlines()
    assert lines[0] == first
    if status == 1:
        assert "counterexample:" in lines
        assert [line for line in lines if line.startswith("decided by evaluation at random")]
    if status == 2:
        assert "the claim is 1×2, the gradient is 1×3" in err and "Traceback" not in err


def test_gradient_command_json(spec, capsys):
    code, out, _ = _run(["gradient", "--spec", spec, "--wrt", "b2", "--layout", "denominator",
                         "--claimed", r"\hat{y} - y", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {"verdict": "correct", "method": "exact", "diagnosis": [],
                               "counterexample": None}


def test_gradient_command_bad_input(spec, capsys, tmp_path):
    code, _, err = _run(["gradient", "--spec", str(tmp_path / "missing.toml"), "--wrt", "W2",
                         "--claimed", "x"], capsys)
    assert code == 2 and "No such file" in err
    code, _, err = _run(["gradient", "--spec", spec, "--wrt", "W9", "--claimed", "x"], capsys)
    assert code == 2 and "no parameter named 'W9'" in err


@pytest.mark.parametrize("extra, status, first", [
    ([], 1, "incorrect: missing term"),
    (["--symmetric", "A"], 0, "correct"),
])
def test_expr_command(capsys, extra, status, first):
    code, out, _ = _run(["expr", "v^T A v", "--wrt", "v", "--claimed", "2 A v", "--layout",
                         "denominator", *extra], capsys)
    assert code == status and out.splitlines()[0] == first


def test_expr_command_layout_and_shapes(capsys):
    code, out, _ = _run(["expr", "v^T A v", "--wrt", "v", "--claimed", "(A + A^T) v",
                         "--shape", "A=3x3", "--shape", "v=3"], capsys)
    assert code == 1 and out.splitlines()[0] == "incorrect: layout swap"
    code, _, err = _run(["expr", "v^T A v", "--wrt", "v", "--claimed", "2Av", "--shape",
                         "v=3", "--shape", "v=4"], capsys)
    assert code == 2 and "two shapes" in err


def test_commands_exit_without_traceback(spec):
    result = subprocess.run([sys.executable, "-m", "verify", "gradient", "--spec", spec,
                             "--wrt", "W2", "--claimed", r"\nabla_{W^{[2]}} L = (a^{[2]} -"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout.splitlines()[0] == "invalid: other"
    assert "Traceback" not in result.stderr and "error:" in result.stderr


def test_mutated_claims_never_raise():
    """Claims of the corpus with a character dropped, inserted or replaced: each gets a
    verdict (often invalid, with the reader's message), never an exception."""
    rng = random.Random(1)
    pieces = list("^_{}()[]Txyaz+-/ 12\\'") + [r"\odot", r"\delta", "^T", r"\frac{1}{2}",
                                                  r"\sigma", "g'", r"\hat{y}", ","]
    for _ in range(120):
        row = rng.choice(NETWORK_CORPUS + IDENTITY_CORPUS)
        network = len(row) == 7
        claim = row[4] if network else row[5]
        k = rng.randrange(len(claim) + 1)
        cut = rng.choice([0, 1, 1, 2])
        claim = claim[:k] + (rng.choice(pieces) if cut != 1 or rng.random() < 0.5 else "") \
            + claim[k + cut:]
        if network:
            verdict = check_claim(claim, NETS[row[1]], wrt=row[2], layout=row[3],
                                  notation=row[0])
        else:
            verdict = check_claim(claim, row[0], wrt=row[1], shapes=row[2], symmetric=row[3],
                                  layout=row[4])
        assert verdict.verdict in ("correct", "incorrect", "invalid")
        assert verdict.verdict == "correct" or verdict.diagnosis
        json.dumps(verdict.as_dict())


# --- readings that used to lose their meaning ---------------------------------------------------

def test_a_layer_index_after_braces_is_an_error_not_a_power_of_one():
    """{z}^{[1]} once read as z^1 = z, silently dropping the layer."""
    for text in (r"{z}^{[1]}", r"\sigma(z)^{[2]}", r"(a + b)^{(2)}"):
        with pytest.raises(BadInput, match="layer index"):
            verify.parse_latex(text)
    assert str(verify.parse_latex(r"z^{[1]}").expr) == "z^{[1]}"


def test_ensimag_bold_batch_symbols_are_the_batch_not_one_sample():
    """𝐁^2 and 𝛂^1 are the batch's (Ensimag writes one sample B^2, α^1): without 1/N the
    batch gradient is wrong, with it right."""
    net = derive.load_spec(str(EXAMPLES / "ensimag_columns.toml"))
    one = verify.check_claim(r"\nabla_{\Omega^{2}} \mathcal{E} = \alpha^{1} [\mathcal{B}^{2}]^T",
                             net, wrt="W2", notation="ensimag")
    batch = r"\nabla_{\Omega^{2}} \mathcal{E} = FACTOR \boldsymbol{\alpha}^{1} [\mathbf{B}^{2}]^T"
    assert one.verdict == "correct"
    assert verify.check_claim(batch.replace("FACTOR", r"\frac{1}{N}"), net, wrt="W2",
                              notation="ensimag").verdict == "correct"
    wrong = verify.check_claim(batch.replace("FACTOR", ""), net, wrt="W2", notation="ensimag")
    assert (wrong.verdict, wrong.diagnosis[0].cls) == ("incorrect", "missing_factor")


def test_ensimag_row_signal_p_is_bound_to_the_derivative_by_the_activation():
    net = derive.load_spec(str(EXAMPLES / "ensimag_columns.toml"))
    right = (r"\nabla_{\Omega^{1}} \mathcal{E} = \alpha^{0} "
             r"[\Phi'(\zeta^{1}) \odot [\mathcal{P}^{2}]^T]^T")
    assert verify.check_claim(right, net, wrt="W1", notation="ensimag").verdict == "correct"
    dropped = verify.check_claim(r"\nabla_{\Omega^{2}} \mathcal{E} = \alpha^{1} \mathcal{P}^{3}",
                                 net, wrt="W2", notation="ensimag")
    assert dropped.diagnosis[0].cls == "missing_activation_derivative"


def test_claims_on_symbolic_augmented_sizes_are_decided():
    """n_0 + 1 columns of W̃: a size expression, not an unreadable size."""
    net = derive.load_spec(str(EXAMPLES / "mines_augmented_batch.toml"))
    right = (r"\nabla_{\tilde{W}^{(2)}} \mathcal{L} = \frac{1}{N} \mathbf{E}^{(2)T} "
             r"\tilde{V}^{(1)T}")
    assert verify.check_claim(right, net, wrt="W2", notation="mines").verdict == "correct"
    one = verify.check_claim(r"\nabla_{\tilde{W}^{(2)}} \mathcal{L} = E^{(2)T} \tilde{v}^{(1)T}",
                             net, wrt="W2", notation="mines")
    assert one.verdict == "correct"


def test_identity_scalars_as_people_declare_and_write_them():
    """λ declared as a scalar by its LaTeX name and also as 1×1; an undeclared λ and the N of
    1/(2N) used only as scalars in EXPR."""
    for kwargs in ({"shapes": {"w": (3, 1), r"\lambda": (1, 1)}, "scalars": (r"\lambda",)},
                   {"shapes": {"w": (3, 1)}, "scalars": (r"\lambda",)},
                   {"shapes": {"w": (3, 1)}}):
        verdict = check_claim(r"2 \lambda w", r"\lambda w^T w", wrt="w", layout="denominator",
                              **kwargs)
        assert verdict.verdict == "correct", (kwargs, verdict.headline)
    right = check_claim(r"\frac{\lambda}{N} w", r"\frac{\lambda}{2N} w^T w", wrt="w",
                        shapes={"w": (3, 1)}, layout="denominator")
    wrong = check_claim(r"\frac{\lambda}{2N} w", r"\frac{\lambda}{2N} w^T w", wrt="w",
                        shapes={"w": (3, 1)}, layout="denominator")
    assert right.verdict == "correct" and wrong.verdict == "incorrect"
    assert wrong.diagnosis[0].cls == "missing_factor"


def test_sums_over_the_samples_are_the_batch_gradient():
    """Σ_{i=1}^{N} over the samples: the body written for one sample (x^{(i)}, a^{[1](i)}),
    compared with the batch cost's gradient (the mean over the samples)."""
    net = NETS["sigmoid_bce"]
    cases = [
        (r"\frac{1}{N} \sum_{i=1}^{N} \delta^{[2](i)} a^{[1](i)T}", "W2", "correct", None),
        (r"\frac{1}{N} \sum_{i=1}^{N} (a^{[2](i)} - y^{(i)}) a^{[1](i)T}", "W2", "correct",
         None),
        (r"\frac{1}{N} \sum_{i=1}^{N} (W^{[2]T} \delta^{[2](i)} \odot g'(z^{[1](i)})) "
         r"x^{(i)T}", "W1", "correct", None),
        (r"\frac{1}{N} \sum_{i=1}^{N} \delta^{[2](i)}", "b2", "correct", None),
        (r"\sum_{i=1}^{N} (a^{[2](i)} - y^{(i)}) a^{[1](i)T}", "W2", "incorrect",
         "missing_factor"),
        (r"\frac{1}{N} \sum_{i=1}^{N} a^{[1](i)} (a^{[2](i)} - y^{(i)})", "W2", "incorrect",
         "missing_transpose"),
    ]
    for body, wrt, verdict, cls in cases:
        symbol = {"W2": "W^{[2]}", "W1": "W^{[1]}", "b2": "b^{[2]}"}[wrt]
        found = check_claim(rf"\nabla_{{{symbol}}} J = {body}", net, wrt=wrt, notation="cs229")
        assert found.verdict == verdict, (body, found.headline)
        assert cls is None or found.diagnosis[0].cls == cls, (body, found.headline)


def test_a_layers_own_activation_as_the_printers_write_it():
    """g^{[1]}(z^{[1]}) is layer 1's activation (not g to the power [1]), and {g^{[1]}}'(…) its
    derivative, as the documents print them when the layers' activations differ."""
    net = derive.mlp([2, 3, 1], activations=["tanh", "sigmoid"], loss="bce")
    for factor in (r"{g^{[1]}}'(z^{[1]})", r"(1 - g^{[1]}(z^{[1]}) \odot g^{[1]}(z^{[1]}))"):
        claim = rf"\nabla_{{W^{{[1]}}}} \mathcal{{L}} = (W^{{[2]T}} \delta^{{[2]}} \odot {factor}) x^T"
        assert check_claim(claim, net, wrt="W1", notation="cs229").verdict == "correct", factor
    wrong = (r"\nabla_{W^{[1]}} \mathcal{L} = (W^{[2]T} \delta^{[2]} \odot "
             r"{g^{[2]}}'(z^{[1]})) x^T")
    assert check_claim(wrong, net, wrt="W1", notation="cs229").verdict != "correct"


def test_the_derivative_of_a_one_by_one_layer_is_that_layers():
    """g'(z^{[2]}) for a 1×1 z^{[2]} is a number (Subs of a derivative): bound to layer 2's
    activation when the layers differ, so a Φ' too many on a fused a − y is named."""
    net = derive.mlp([2, 2, 1], activations=["softplus", "sigmoid"], loss="bce")
    extra = check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]}-y) a^{[1]T} \odot g'(z^{[2]})",
                        net, wrt="W2", notation="cs229")
    assert (extra.verdict, extra.diagnosis[0].cls) == ("incorrect",
                                                       "wrong_activation_derivative")
    assert check_claim(r"\nabla_{W^{[2]}} \mathcal{L} = (a^{[2]}-y) a^{[1]T}", net, wrt="W2",
                       notation="cs229").verdict == "correct"


def test_a_fraction_of_vectors_is_entry_by_entry_and_of_matrices_refused():
    """y/a for vectors has one meaning (a vector has no inverse): entrywise, as the per-entry
    loss's derivative is written; A/B for square matrices stays an error (A B^{-1}?)."""
    net = derive.mlp([2, 3, 2], activations=["tanh", "sigmoid"], loss="bce")
    claim = r"\frac{\partial \mathcal{L}}{\partial a^{[2]}} = \left(\frac{1 - y}{1 - a^{[2]}} {} \frac{y}{a^{[2]}}\right)^T"
    assert check_claim(claim.replace("{}", "-"), net, wrt="a2",
                       notation="cs229").verdict == "correct"
    assert check_claim(claim.replace("{}", "+"), net, wrt="a2",
                       notation="cs229").verdict == "incorrect"
    with pytest.raises(BadInput, match="cannot divide by the matrix"):
        verify.parse_latex(r"\frac{A}{B}", shapes={"A": (2, 2), "B": (2, 2)})
