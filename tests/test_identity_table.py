"""The layout table of seed 001 ("Derivatives of Functions with Respect to Vectors"), all ten
rows in both layouts: exact expected forms, and finite differences at random points."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.calculus.matrix import matrix_jacobian
from derive.errors import BadInput

N = sp.Symbol("n")
A = sp.MatrixSymbol("A", N, N)
u = sp.MatrixSymbol("u", N, 1)
v = sp.MatrixSymbol("v", N, 1)
t = sp.Symbol("t", real=True)
I = sp.Identity(N)

SHAPES = {"A": ("n", "n"), "u": ("n", 1), "v": ("n", 1)}

# (row, EXPR, wrt, symmetric, numerator, denominator, value of EXPR as a NumPy function)
SEED_TABLE = [
    ("d v / dv", "v", "v", (), I, I, lambda e: e["v"]),
    ("d v^T / dv", "v^T", "v", (), I, I, lambda e: e["v"].T),
    ("d t v / dv", "t v", "v", (), t * I, t * I, lambda e: e["t"] * e["v"]),
    ("d u^T v / du", "u^T v", "u", (), v.T, v, lambda e: e["u"].T @ e["v"]),
    ("d u^T v / dv", "u^T v", "v", (), u.T, u, lambda e: e["u"].T @ e["v"]),
    ("d v^T v / dv", "v^T v", "v", (), 2 * v.T, 2 * v, lambda e: e["v"].T @ e["v"]),
    ("d v^T A v / dv", "v^T A v", "v", (), v.T * (A + A.T), (A + A.T) * v,
     lambda e: e["v"].T @ e["A"] @ e["v"]),
    ("d v^T A v / dv, A = A^T", "v^T A v", "v", ("A",), 2 * v.T * A, 2 * A * v,
     lambda e: e["v"].T @ e["A"] @ e["v"]),
    ("d A v / dv", "A v", "v", (), A, A.T, lambda e: e["A"] @ e["v"]),
    ("d v^T A / dv", "v^T A", "v", (), A.T, A, lambda e: e["v"].T @ e["A"]),
]


@pytest.mark.parametrize("row, text, wrt, symmetric, numerator, denominator, value", SEED_TABLE,
                         ids=[r[0] for r in SEED_TABLE])
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_seed_table_exact(row, text, wrt, symmetric, numerator, denominator, value, layout):
    result = matrix_jacobian(text, wrt, layout=layout, shapes=SHAPES, scalars=("t",),
                             symmetric=symmetric)
    expected = numerator if layout == "numerator" else denominator
    assert result.expr == expected, (result.expr, expected)
    assert tuple(result.expr.shape) == tuple(result.shape)


def _environment(rng, n, symmetric):
    env = {"u": rng.normal(size=(n, 1)), "v": rng.normal(size=(n, 1)),
           "A": rng.normal(size=(n, n)), "t": float(rng.normal())}
    if symmetric:
        env["A"] = (env["A"] + env["A"].T) / 2
    return env


def _numeric_jacobian(value, env, name, h=1e-6):
    """Numerator-layout Jacobian of the entries of value(env) by the entries of env[name]."""
    base = np.asarray(value(env), dtype=float).reshape(-1)
    x = env[name]
    jac = np.zeros((base.size, x.size))
    for k in range(x.size):
        plus, minus = dict(env), dict(env)
        step = np.zeros(x.size)
        step[k] = h
        plus[name] = x + step.reshape(x.shape)
        minus[name] = x - step.reshape(x.shape)
        jac[:, k] = (np.asarray(value(plus)).reshape(-1)
                     - np.asarray(value(minus)).reshape(-1)) / (2 * h)
    return jac


@pytest.mark.parametrize("row, text, wrt, symmetric, numerator, denominator, value", SEED_TABLE,
                         ids=[r[0] for r in SEED_TABLE])
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_seed_table_finite_differences(row, text, wrt, symmetric, numerator, denominator, value,
                                       layout):
    rng = np.random.default_rng(1)
    n = 4
    env = _environment(rng, n, bool(symmetric))
    result = matrix_jacobian(text, wrt, layout=layout, shapes=SHAPES, scalars=("t",),
                             symmetric=symmetric)
    got = eval(result.numpy, {"np": np}, dict(env))  # noqa: S307 - our own generated code
    jac = _numeric_jacobian(value, env, wrt)
    expected = jac if layout == "numerator" else jac.T
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_symmetric_declaration_needs_a_square_matrix():
    with pytest.raises(BadInput, match="symmetric"):
        matrix_jacobian("v^T A v", "v", shapes=SHAPES, symmetric=("v",))
