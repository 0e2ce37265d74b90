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

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

import derive
from derive.activations import expand_activations
from derive.calculus.latex_input import read_latex
from derive.calculus.matrix import vjp
from derive.calculus.namespace import Namespace
from derive.codegen import load_source
from derive.jacobians import activation_functions
from derive.render import render
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


# --- every layer kind of the registry -------------------------------------------------------------

EXAMPLES = [(kind, example) for kind, cls in LAYERS.items() for example in cls.examples()]
IDS = [f"{kind}-{getattr(example, 'convention', i)}" for i, (kind, example) in
       enumerate(EXAMPLES)]


def _network_with(example):
    """A two-layer network whose second layer is ``example`` (sizes 3 → 2 → example's)."""
    net = derive.mlp([3, 2, example.size or 2], activations=["identity", "tanh"], loss="mse")
    layer = example.place(2, 2, example.size or 2)
    layers = (net.layers[0], layer)
    return replace(net, layers=layers), layer


def _explicit_values(sym, layer, explicit):
    """The layer's input and parameter symbols → the explicit entries its explicit() uses."""
    values = {sym.a(1): sp.ImmutableMatrix(explicit.inputs)}
    for name, symbol in layer.parameters(sym).items():
        values[symbol] = sp.ImmutableMatrix(explicit.params()[name])
    return values


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=IDS)
def test_every_layer_kind_stages_equal_its_explicit_entries(kind, example):
    net, layer = _network_with(example)
    sym = derive.backprop(net, form="matrix").symbols
    explicit = layer.explicit()
    values = _explicit_values(sym, layer, explicit)
    previous = None
    for stage, want in zip(layer.stages(sym, sym.a(1)), (explicit.psi, explicit.phi)):
        value = stage.value.xreplace(values)
        if previous is not None:
            value = value.xreplace({sym.value(previous, layer.index): sp.ImmutableMatrix(
                explicit.z)})
        got = sp.Matrix(value.doit())
        assert (got - want).applyfunc(lambda e: sp.expand(expand_activations(e))) == \
            sp.zeros(*want.shape), (kind, stage.kind)
        previous = stage.kind


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=IDS)
def test_every_layer_kind_gradients_match_central_differences(kind, example):
    net, _ = _network_with(example)
    d = derive.backprop(net, form="matrix", batch=True)
    rng = np.random.default_rng(3)
    params = net.init_params(rng)
    params = {name: value + 0.1 * rng.normal(size=value.shape) for name, value in params.items()}
    X, Y = rng.normal(size=(3, 4)), rng.normal(size=(net.sizes[-1], 4))
    grads = d.evaluate(params, X, Y)
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            step = np.zeros_like(value)
            step[index] = 1e-6
            plus = d.loss_value({**params, name: value + step}, X, Y)
            minus = d.loss_value({**params, name: value - step}, X, Y)
            numeric[index] = (plus - minus) / 2e-6
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=IDS)
def test_every_layer_kind_initialises_its_parameters(kind, example):
    _, layer = _network_with(example)
    params = layer.init_params(np.random.default_rng(0))
    assert {n: p.shape for n, p in params.items()} == layer.parameter_shapes()
    assert all(np.isfinite(p).all() for p in params.values())


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=IDS)
def test_every_layer_kind_generates_code_that_passes_its_check(kind, example):
    net, _ = _network_with(example)
    module = derive.generate_numpy(net, name="layer_" + kind)
    assert module.check.startswith("central differences")
    loaded = load_source(module.source, "layer_" + kind)
    rng = np.random.default_rng(0)
    params = loaded.init_params(rng)
    X, Y = rng.normal(size=(3, 5)), rng.normal(size=(net.sizes[-1], 5))
    want = derive.backprop(net, form="matrix", batch=True).evaluate(params, X, Y)
    for name, value in loaded.gradients(params, X, Y).items():
        np.testing.assert_allclose(value, want[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=IDS)
def test_every_layer_kind_reads_back_from_its_latex(kind, example):
    """The LaTeX of the layer's forward stages, read back by the LaTeX reader with the
    profile's symbols declared, is the stage's own matrix expression."""
    net, layer = _network_with(example)
    d = derive.backprop(net, form="matrix")
    # Φ spelled as the registry's name, so that the reader knows the function.
    profile = derive.get_profile("cs229", {"phi": layer.activation.latex})
    tex = render(d, "latex", notation=profile)
    written = [line for line in tex.splitlines() if r"\tag{" in line and "&=" in line]
    names, shapes = {}, {}
    for symbol, (kind_, position) in d.symbols.table.items():
        name = read_latex(profile.symbol(kind_, position), Namespace()).name
        names[name], shapes[name] = symbol, symbol.shape
    functions = activation_functions()
    checked, unread = 0, 0
    for step, line in zip(d.steps, written):
        if step.lhs.kind not in ("z", "a") or step.lhs.layer != layer.index:
            continue
        rhs = line.split("&=", 1)[1].rsplit(r"\tag{", 1)[0].strip()
        if r"\begin{bmatrix}" in rhs:        # the reader does not read block matrices ([1; a])
            unread += 1
            continue
        read = read_latex(rhs, Namespace(shapes=shapes, functions=functions))
        read = read.xreplace({s: names[s.name] for s in read.atoms(sp.MatrixSymbol)})
        assert sp.Matrix(read.doit().as_explicit()) == sp.Matrix(
            step.rhs.doit().as_explicit()) or (read - step.rhs).doit() == sp.ZeroMatrix(
                *step.rhs.shape), (line, step.rhs)
        checked += 1
    assert checked + unread == len(layer.stages(d.symbols, d.symbols.a(1))) and checked >= 1
