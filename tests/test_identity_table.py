"""The identity table (derive.identities): the CMU 10-315 layout table's ten rows and the
standard identities, in both layouts — exact expected forms with symbolic and with integer sizes, the
layout's shapes (SPEC §3.1), and the generated NumPy code against float64 central finite
differences of EXPR written independently in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.errors import BadInput
from derive.identities import IDENTITIES, LAYOUT_TABLE, instantiate, size_symbols
from derive.jacobians import jacobian

LAYOUTS = ("numerator", "denominator")
# distinct integers, so that a transposed or mis-sized result cannot pass by accident
SIZES = {"n": 3, "m": 2, "p": 4, "n_j": 4, "n_k": 2}
IDS = [row.name for row in IDENTITIES]


def _evaluate(result, env):
    """The value of ``result.numpy`` with the variables bound under its identifiers."""
    names = result.numpy_names
    scope = {names.get(name, name): value for name, value in env.items()}
    return eval(result.numpy, {"np": np}, scope)  # noqa: S307 - our own generated code


def _derive(row, layout):
    return jacobian(row.expr, row.wrt, layout=layout, shapes=row.shape_dict,
                    scalars=row.scalars, symmetric=row.symmetric)


def _environment(row, seed=0) -> dict:
    """Random values for every name of the row at SIZES (symmetric / invertible as declared)."""
    rng = np.random.default_rng(seed)
    env: dict = {}
    for name, (rows, cols) in instantiate(row, SIZES).shapes:
        value = rng.normal(size=(int(rows), int(cols)))
        if name in row.symmetric:
            value = (value + value.T) / 2
        if name in row.invertible:
            value = rows * np.eye(rows) + 0.5 * value       # diagonally dominant: det > 0
            assert np.linalg.det(value) > 0
        env[name] = value
    for name in row.scalars:
        env[name] = float(rng.uniform(0.5, 2.0))
    return env


def _numeric_jacobian(value, env, name, h=1e-6) -> np.ndarray:
    """Numerator-layout Jacobian: rows = entries of value(env) (row-major), columns = entries of
    env[name] (row-major) — for a matrix X this is ∂f/∂X_ij at column i·q + j."""
    x = np.asarray(env[name], dtype=float)
    base = np.asarray(value(env), dtype=float).reshape(-1)
    jac = np.zeros((base.size, x.size))
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = h
        plus, minus = dict(env), dict(env)
        plus[name] = x + step.reshape(x.shape)
        minus[name] = x - step.reshape(x.shape)
        jac[:, k] = (np.asarray(value(plus), dtype=float).reshape(-1)
                     - np.asarray(value(minus), dtype=float).reshape(-1)) / (2 * h)
    return jac


def _expected_numeric(row, env, layout) -> np.ndarray:
    """The derivative in ``layout`` from finite differences, shaped as SPEC §3.1 says."""
    x = np.asarray(env[row.wrt])
    out = np.asarray(row.value(env))
    jac = _numeric_jacobian(row.value, env, row.wrt)
    if out.size == 1 and x.ndim == 2 and x.shape[1] > 1 and x.shape[0] > 1:
        numerator = jac.reshape(x.shape).T            # scalar by X (p×q): q×p
    else:
        numerator = jac                               # m×n (scalar f: 1×n)
    return numerator if layout == "numerator" else numerator.T


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("row", IDENTITIES, ids=IDS)
def test_exact_form_symbolic_sizes(row, layout):
    result = _derive(row, layout)
    expected = row.expected(layout)
    assert result.expr == expected, (result.expr, expected)
    assert tuple(result.shape) == tuple(expected.shape)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("row", IDENTITIES, ids=IDS)
def test_exact_form_integer_sizes(row, layout):
    concrete = instantiate(row, SIZES)
    result = _derive(concrete, layout)
    expected = concrete.expected(layout)
    assert result.expr == expected, (result.expr, expected)
    assert all(isinstance(s, int) for s in result.shape)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("row", IDENTITIES, ids=IDS)
def test_numpy_code_matches_finite_differences(row, layout):
    env = _environment(row)
    result = _derive(row, layout)
    got = _evaluate(result, env)
    expected = _expected_numeric(row, env, layout)
    concrete_shape = tuple(int(sp.sympify(s).subs(SIZES)) for s in result.shape)
    assert np.shape(got) == expected.shape == concrete_shape, result.numpy
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=result.numpy)


@pytest.mark.parametrize("row", IDENTITIES, ids=IDS)
def test_integer_size_code_matches_symbolic_size_code(row):
    env = _environment(row, seed=1)
    symbolic = _derive(row, "denominator")
    concrete = _derive(instantiate(row, SIZES), "denominator")
    np.testing.assert_allclose(_evaluate(concrete, env), _evaluate(symbolic, env),
                               rtol=1e-12, atol=1e-12)


def test_table_holds_the_ten_seed_rows_and_every_family():
    assert len(LAYOUT_TABLE) == 10
    text = " ".join(row.expr for row in IDENTITIES)
    for marker in (r"\det", r"\log\det", "X^{-1}", r"\|X\|_F", r"\operatorname{softmax}",
                   "logsumexp", r"\sigma", "applyfunc", "tr(", r"\lambda", "v.T*A*v"):
        assert marker in text, marker
    assert {s.name for row in IDENTITIES for s in size_symbols(row)} >= {"n", "m", "n_j"}


def test_layout_shapes_follow_spec():
    """SPEC §3.1 by hand: ∂f/∂X for X 2×3 is 3×2 (numerator) and 2×3 (denominator);
    ∂y/∂x for y ∈ R^2, x ∈ R^3 is 2×3 (numerator)."""
    shapes = {"a": (2, 1), "X": (2, 3), "b": (3, 1)}
    assert jacobian("a^T X b", "X", "numerator", shapes).shape == (3, 2)
    assert jacobian("a^T X b", "X", "denominator", shapes).shape == (2, 3)
    shapes = {"W": (2, 3), "x": (3, 1)}
    assert jacobian(r"\tanh(W x)", "x", "numerator", shapes).shape == (2, 3)
    assert jacobian(r"\tanh(W x)", "x", "denominator", shapes).shape == (3, 2)
    assert jacobian("a^T X b", "a", "numerator", {"a": (2, 1), "X": (2, 3),
                                                        "b": (3, 1)}).shape == (1, 2)


def test_symmetric_declaration_needs_a_square_matrix():
    row = LAYOUT_TABLE[0]
    with pytest.raises(BadInput, match="symmetric"):
        jacobian("v^T A v", "v", shapes=row.shape_dict, symmetric=("v",))
