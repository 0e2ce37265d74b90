"""Layer objects against independent truth, driven by the layer registry.

For every layer kind of :data:`derive.layers.LAYERS` and every variant of it (the dense layer's
three weight conventions):

- the forward map, as a matrix expression instantiated at integer sizes, equals the explicit
  per-entry map written independently here from SPEC §3.2;
- the parameter shapes are those of SPEC §6;
- the vector-Jacobian product of every parameter and of the input, from the calculus's rule
  table (the layer's own nodes included), equals ``sympy.diff`` of the explicit map contracted
  with a random cotangent, at random rational points;
- the initialisation has the parameters' shapes, zero biases and Xavier-scaled weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import derive
from derive.calculus.matrix import vjp
from derive.layers import CONVENTIONS, LAYERS, Dense
from derive.layers.dense import Augment, DropBias, DropFirstRow

SIZES = (3, 2)                    # n_{l-1}, n_l


def placed(convention, activation="tanh", batch=False):
    layer = Dense(SIZES[1], derive.ACTIVATIONS.get(activation), convention).place(2, *SIZES)
    net = derive.mlp([4, SIZES[0], SIZES[1]], activations=["identity", activation],
                     convention=convention, loss="mse")
    return layer, net


def expected_psi(convention, W, a, b):
    """ψ(a) from SPEC §3.2, written with explicit SymPy matrices."""
    if convention == "rows":
        return W * a + b
    if convention == "columns":
        return W.T * a + b
    return W * sp.ones(1, a.cols).col_join(a)


def test_the_registry_lists_every_kind():
    assert LAYERS["dense"] is Dense
    assert set(CONVENTIONS) == {"rows", "columns", "augmented"}


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_parameter_shapes_follow_spec(convention):
    n_in, n_out = SIZES
    layer, _ = placed(convention)
    expected = {"rows": {"W2": (n_out, n_in), "b2": (n_out, 1)},
                "columns": {"W2": (n_in, n_out), "b2": (n_out, 1)},
                "augmented": {"W2": (n_out, 1 + n_in)}}[convention]
    assert layer.parameter_shapes() == expected


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_forward_map_equals_the_explicit_map(convention, batch):
    layer, net = placed(convention)
    d = derive.backprop(net, form="matrix", batch=batch)
    sym = d.symbols
    stage = layer.stages(sym, sym.a(1))[0]
    columns = 2 if batch else 1
    values = {}
    a = sp.Matrix(SIZES[0], columns, lambda i, j: sp.Symbol(f"a_{i}_{j}", real=True))
    values[sym.a(1)] = a
    params = {}
    for name, symbol in layer.parameters(sym).items():
        params[name] = sp.Matrix(*symbol.shape, lambda i, j: sp.Symbol(f"{name}_{i}_{j}",
                                                                      real=True))
        values[symbol] = params[name]
    size_values = {derive.naming.N: columns}
    got = sp.Matrix(stage.value.xreplace(values).xreplace(size_values).doit())
    b = params.get("b2")
    want = expected_psi(convention, params["W2"], a,
                        b * sp.ones(1, columns) if b is not None else None)
    assert (got - want).applyfunc(sp.expand) == sp.zeros(*want.shape)


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_vector_jacobian_products_equal_sympy_diff(convention):
    layer, net = placed(convention)
    d = derive.backprop(net, form="matrix")
    sym = d.symbols
    z = layer.stages(sym, sym.a(1))[0].value
    rng = np.random.default_rng(0)
    G = sp.Matrix(SIZES[1], 1, [sp.Rational(int(v), 7) for v in rng.integers(-9, 9, SIZES[1])])
    upstream = sp.MatrixSymbol("G", SIZES[1], 1)
    explicit = {sym.a(1): sp.Matrix(SIZES[0], 1, lambda i, j: sp.Symbol(f"a_{i}", real=True))}
    for name, symbol in layer.parameters(sym).items():
        explicit[symbol] = sp.Matrix(*symbol.shape,
                                     lambda i, j: sp.Symbol(f"{name}_{i}_{j}", real=True))
    scalar = (G.T * sp.Matrix(z.xreplace(explicit).doit()))[0, 0]
    for wrt in [sym.a(1), *layer.parameters(sym).values()]:
        derived, _ = vjp(z, wrt, upstream)
        got = sp.Matrix(derived.xreplace(explicit).xreplace({upstream: G}).doit())
        entries = explicit[wrt]
        want = entries.applyfunc(lambda e: sp.diff(scalar, e))
        assert (got - want).applyfunc(sp.expand) == sp.zeros(*want.shape), (convention, wrt)


def test_augmented_nodes_have_explicit_entries():
    V = sp.Matrix([[1, 2], [3, 4]])
    assert sp.Matrix(Augment(sp.ImmutableMatrix(V)).doit()) == sp.Matrix([[1, 1], [1, 2],
                                                                          [3, 4]])
    W = sp.ImmutableMatrix([[5, 6, 7]])
    assert sp.Matrix(DropBias(W).doit()) == sp.Matrix([[6, 7]])
    assert sp.Matrix(DropFirstRow(sp.ImmutableMatrix(V)).doit()) == sp.Matrix([[3, 4]])


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
def test_initialisation_is_xavier_with_zero_biases(convention):
    layer = Dense(300, derive.ACTIVATIONS.get("tanh"), convention).place(1, 200, 300)
    params = layer.init_params(np.random.default_rng(0))
    assert {n: p.shape for n, p in params.items()} == layer.parameter_shapes()
    W = params["W1"]
    assert np.std(W) == pytest.approx(np.sqrt(2 / sum(W.shape)), rel=0.05)
    if "b1" in params:
        assert not params["b1"].any()


def test_explicit_entries_name_every_weight_once():
    for convention in CONVENTIONS:
        layer, _ = placed(convention)
        explicit = layer.explicit()
        names = [str(s) for s in explicit.W]
        assert len(set(names)) == len(names)
        assert explicit.psi.free_symbols >= set(explicit.W)


def test_unknown_convention_lists_the_known_ones():
    with pytest.raises(derive.BadInput, match="unknown convention 'diagonal'; known: rows, "
                                              "columns, augmented"):
        Dense(3, "tanh", "diagonal")
