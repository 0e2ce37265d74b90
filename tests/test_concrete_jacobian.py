"""Concrete-size Jacobians (``derive.jacobian`` on explicit SymPy matrices) against the seeds.

Shapes per SPEC §3.1: numerator ∂y/∂x is m×n, ∂f/∂x 1×n, ∂f/∂X q×p for X p×q; denominator
the transposes.  Values are the hand-derived ones of seeds 000, 001 and 003.
"""

from __future__ import annotations

import pytest
import sympy as sp

import derive
from derive.network import mlp

LAYOUTS = ["numerator", "denominator"]


def column(prefix, n):
    return sp.Matrix(sp.symbols(f"{prefix}1:{n + 1}", real=True))


def matrix(prefix, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}{i + 1}{j + 1}", real=True))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_cmu_elementwise_square_is_diagonal(layout):
    x = column("x", 3)
    result = derive.jacobian(x.applyfunc(lambda t: t ** 2), x, layout=layout)
    assert result.expr == sp.diag(*(2 * x))                 # symmetric: same in both layouts
    assert result.shape == (3, 3)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_durham_multilinear_map(layout):
    x, b, W = column("x", 2), column("b", 3), matrix("W", 3, 2)
    y = W * x + b
    by_x = derive.jacobian(y, x, layout=layout).expr
    by_b = derive.jacobian(y, b, layout=layout).expr
    assert by_x == (W if layout == "numerator" else W.T)   # ∂(Wx + b)/∂x = W, m × n
    assert by_b == sp.eye(3)


@pytest.mark.parametrize("layout, shape", [("numerator", (1, 3)), ("denominator", (3, 1))])
def test_scalar_by_vector(layout, shape):
    v, u = column("v", 3), column("u", 3)
    result = derive.jacobian((u.T * v)[0, 0], v, layout=layout)
    assert result.shape == shape
    assert result.expr == (u.T if layout == "numerator" else u)


@pytest.mark.parametrize("layout, shape", [("numerator", (3, 2)), ("denominator", (2, 3))])
def test_scalar_by_matrix_has_the_shape_of_the_transpose_in_numerator_layout(layout, shape):
    a, b, X = column("a", 2), column("b", 3), matrix("X", 2, 3)
    f = (a.T * X * b)[0, 0]
    result = derive.jacobian(f, X, layout=layout)
    assert result.shape == shape
    gradient = a * b.T                                         # ∇_X aᵀXb = a bᵀ (p × q)
    assert result.expr == (gradient.T if layout == "numerator" else gradient)


def test_ensimag_per_neuron_jacobian_is_line_k():
    net = mlp([3, 2, 1], activation="tanh", loss="mse", convention="columns")
    layer = net.explicit().layers[0]
    for k in (1, 2):
        w_k = layer.neuron_weights(k)
        J = derive.jacobian(layer.output(), w_k).expr              # n_j × n_{j-1}
        assert J.shape == (2, 3)
        zeta_k = layer.psi[k - 1]
        phi_prime = 1 - sp.tanh(zeta_k) ** 2
        for i in range(2):
            row = J.row(i).applyfunc(lambda e: sp.expand(derive.activations.expand_activations(e)))
            expected = (phi_prime * layer.inputs.T if i == k - 1
                        else sp.zeros(1, 3)).applyfunc(sp.expand)
            assert row == expected                            # Φ'(ζ_k) αᵀ on line k, else 0


def test_a_variable_not_in_the_expression_gives_zero_and_says_so():
    x, t = column("x", 2), sp.Symbol("t", real=True)
    result = derive.jacobian(x, sp.Matrix([t]))
    assert result.expr == sp.zeros(2, 1)
    assert any("does not depend" in note for note in result.notes)


def test_a_matrix_valued_expression_by_a_matrix_is_refused():
    X = matrix("X", 2, 2)
    with pytest.raises(derive.BadInput, match="tensor"):
        derive.jacobian(X * X, X)
