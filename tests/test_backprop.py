"""The backprop derivation against independent truth.

* every gradient equals direct differentiation of the composed loss — exactly for small networks
  (activations kept as functions whose derivatives were checked against sympy.diff; piecewise
  forms fall back to 40-digit evaluation at random rational points), and at random exact
  rational points for larger ones;
* ``Derivation.evaluate`` equals central finite differences of a hand-written NumPy loss;
* the fused output simplifications are found for sigmoid+bce, softmax+cross_entropy and
  identity+mse, and only where the algebra gives them.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp

import derive
from derive.activations import custom as custom_activation
from derive.activations import expand_activations
from derive.derivation import Program
from derive.losses import custom as custom_loss
from tests import reference

ELEMENTWISE = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "step", "softplus"]
LOSSES = ["mse", "squared", "l1", "huber", "logistic", "hinge", "bce", "cross_entropy"]
CONVENTIONS = ["rows", "columns", "augmented"]
# Output activations whose range fits the loss's domain (bce and cross_entropy take logs).
POSITIVE_OUTPUT = {"sigmoid"}


def output_for(loss, act):
    """The output activation for a sweep cell: the swept one where the loss is defined on it."""
    if loss in ("bce", "cross_entropy") and act not in POSITIVE_OUTPUT:
        return "sigmoid"
    return act


def simplex_substitution(net):
    if net.loss.targets != "simplex":
        return {}
    *head, last = net.y
    return {last: 1 - sp.Add(*head)}


def _branch_points(expr):
    """Arguments whose sign selects a branch: of Heaviside, sign, Abs, Max/Min, Piecewise."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Heaviside, sp.sign, sp.Abs)):
            yield node.args[0]
        elif isinstance(node, (sp.Max, sp.Min)):
            first, *rest = node.args
            yield from (first - other for other in rest)
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                for relation in condition.atoms(sp.core.relational.Relational):
                    yield relation.lhs - relation.rhs


def numeric_difference(expr, rng, tries=4):
    """The largest 40-digit |expr| over ``tries`` random rational points.

    A point where a branch argument is exactly 0 (a kink, where conventions for the
    derivative differ) is replaced by another; every other point counts.
    """
    expr = expand_activations(expr)
    branches = list(_branch_points(expr))
    worst, checked = sp.S.Zero, 0
    while checked < tries:
        point = {s: sp.Rational(rng.randint(-400, 400), rng.choice([97, 101, 103]))
                 for s in expr.free_symbols}
        if any(abs(sp.N(b.xreplace(point), 40)) < 1e-35 for b in branches):
            continue
        worst = max(worst, abs(sp.N(expr.xreplace(point), 40)))
        checked += 1
    return worst


def assert_exact(net):
    """Every gradient entry equals sympy.diff of the composed per-sample cost."""
    d = derive.backprop(net)
    cost = net.composed_cost()
    subs = simplex_substitution(net)
    rng = random.Random(0)
    for name, symbols in net.params().items():
        explicit = d.gradient(name, explicit=True)
        assert explicit.shape == symbols.shape
        for mine, theta in zip(explicit, symbols):
            difference = (sp.diff(cost, theta) - mine).xreplace(subs)
            if sp.expand(difference) != 0:
                assert numeric_difference(difference, rng) < 1e-30, (name, theta)
    return d


def assert_at_rational_points(net, seed=0):
    """For larger networks: the direct derivative of the composed cost (sympy.diff) and the
    derived gradient agree at random exact rational points, both evaluated with 50 digits."""
    import mpmath

    d = derive.backprop(net)
    rng = random.Random(seed)
    cost = expand_activations(net.composed_cost())
    symbols = sorted(cost.free_symbols, key=sp.default_sort_key)
    point = {s: sp.Rational(rng.randint(-300, 300), rng.choice([101, 103, 107])) for s in symbols}
    if net.loss.targets == "simplex":
        ys = list(net.y)
        raw = [sp.Rational(rng.randint(1, 50), 7) for _ in ys]
        point.update({y: r / sum(raw) for y, r in zip(ys, raw)})
    names = list(point)
    thetas = [theta for params in net.params().values() for theta in params]
    with mpmath.workdps(50):
        values = {s: mpmath.mpf(v.p) / v.q for s, v in point.items()}
        direct = sp.lambdify(names, [sp.diff(cost, t) for t in thetas], "mpmath", cse=True)(
            *values.values())
        gradients = [entry for name in net.params() for entry in d.gradient(name)]
        outputs = [sp.Symbol(f"_check{i}") for i in range(len(gradients))]
        program = Program(d.program.definitions + tuple(zip(outputs, gradients)))
        derived = program.evaluate(values, outputs, digits=50)
        for theta, want, out in zip(thetas, direct, outputs):
            assert abs(want - derived[out]) < mpmath.mpf(10) ** -30, (theta, want, derived[out])
    return d


SWEEP = [(act, loss, conv) for act in ELEMENTWISE for loss in LOSSES for conv in CONVENTIONS]


@pytest.mark.parametrize("act,loss,conv", SWEEP)
def test_every_activation_loss_convention_exact(act, loss, conv):
    out = output_for(loss, act)
    net = derive.mlp([2, 3, 1] if loss != "cross_entropy" else [2, 3, 2],
                     activations=[act, out], loss=loss, convention=conv)
    assert_exact(net)


@pytest.mark.parametrize("conv", CONVENTIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_softmax_output_exact(conv, loss):
    net = derive.mlp([2, 3, 3], activations=["tanh", "softmax"], loss=loss, convention=conv)
    assert_exact(net)


@pytest.mark.parametrize("conv", CONVENTIONS)
def test_softmax_hidden_layer_exact(conv):
    net = derive.mlp([2, 3, 1], activations=["softmax", "sigmoid"], loss="bce", convention=conv)
    assert_exact(net)


@pytest.mark.parametrize("sizes,acts,loss,conv", [
    ([3, 4, 2], ["tanh", "sigmoid"], "bce", "rows"),
    ([3, 4, 2], ["relu", "identity"], "huber(2)", "columns"),
    ([3, 4, 2], ["softplus", "softmax"], "cross_entropy", "augmented"),
    ([3, 4, 2], ["leaky_relu(0.2)", "tanh"], "l1", "rows"),
    ([2, 3, 3, 3, 1], ["tanh", "sigmoid", "relu", "sigmoid"], "bce", "rows"),
    ([2, 3, 3, 3, 2], ["sigmoid", "tanh", "softplus", "softmax"], "cross_entropy", "columns"),
    ([2, 3, 3, 3, 1], ["tanh", "tanh", "tanh", "identity"], "logistic", "augmented"),
])
def test_larger_networks_at_rational_points(sizes, acts, loss, conv):
    assert_at_rational_points(derive.mlp(sizes, activations=acts, loss=loss, convention=conv))


def test_user_defined_activation_and_loss_exact():
    swish = custom_activation("swish", "x / (1 + exp(-x))")
    logcosh = custom_loss("logcosh", "log(cosh(yhat - y))")
    for conv in CONVENTIONS:
        d = assert_exact(derive.mlp([2, 3, 1], activation=swish, loss=logcosh, convention=conv))
        assert d.simplification is None


def test_user_defined_from_python_expressions():
    x, yhat, y = sp.Symbol("x", real=True), sp.Symbol("yhat", real=True), sp.Symbol("y", real=True)
    net = derive.mlp([2, 2, 1], activation=x ** 3 / 3 + x, loss=(yhat - y) ** 4)
    assert_exact(net)


def test_user_activation_with_textbook_derivative_is_checked():
    good = custom_activation("swish2", "x*sigmoid(x)", derivative="sigmoid(x) + x*sigmoid(x)*(1 - sigmoid(x))")
    assert "textbook form checked" in good.check
    with pytest.raises(derive.BadInput, match="differs from sympy.diff"):
        custom_activation("swish3", "x*sigmoid(x)", derivative="sigmoid(x)")


@pytest.mark.parametrize("act,loss,sizes", [
    ("sigmoid", "bce", [2, 3, 1]),
    ("sigmoid", "bce", [2, 3, 2]),
    ("softmax", "cross_entropy", [2, 3, 4]),
    ("identity", "mse", [2, 3, 2]),
])
def test_recognised_simplifications_are_derived(act, loss, sizes):
    net = derive.mlp(sizes, activations=["tanh", act], loss=loss)
    d = derive.backprop(net)
    assert d.simplification == "dC/dz^2 = yhat - y"
    step = next(s for s in d.steps if s.lhs.kind == "dC/dz")
    assert step.rule == "simplify" and step.check
    L = net.layers[-1]
    assert list(step.rhs) == [a - y for a, y in zip(L.a, net.y)]


@pytest.mark.parametrize("act,loss", [("tanh", "mse"), ("sigmoid", "mse"), ("relu", "mse"),
                                      ("sigmoid", "squared"), ("identity", "l1")])
def test_no_simplification_claimed_where_there_is_none(act, loss):
    d = derive.backprop(derive.mlp([2, 2, 1], activations=["tanh", act], loss=loss))
    assert d.simplification is None


def test_squared_loss_with_identity_gives_twice_the_residual():
    d = derive.backprop(derive.mlp([2, 2, 1], activations=["tanh", "identity"], loss="squared"))
    B = d.program.lookup()[sp.Symbol("B2_1", real=True)]
    assert sp.expand(B - 2 * (sp.Symbol("a2_1", real=True) - sp.Symbol("y_1", real=True))) == 0


# --- numeric evaluation against finite differences of an independent NumPy loss -----------

EVALUATE_CASES = [
    ([2, 3, 1], ["sigmoid", "sigmoid"], "bce", "rows", "mean"),
    ([3, 4, 2], ["tanh", "identity"], "mse", "columns", "sum"),
    ([3, 4, 3], ["relu", "softmax"], "cross_entropy", "augmented", "mean"),
    ([2, 3, 2], ["softplus", "tanh"], "huber", "rows", "mean"),
    ([2, 3, 3, 1], ["tanh", "leaky_relu", "identity"], "logistic", "columns", "mean"),
    ([2, 4, 1], ["swish", "sigmoid"], "logcosh", "augmented", "sum"),
]


@pytest.mark.parametrize("sizes,acts,loss,conv,reduction", EVALUATE_CASES)
def test_evaluate_matches_finite_differences(sizes, acts, loss, conv, reduction):
    customs = {"swish": custom_activation("swish", "x / (1 + exp(-x))")}
    losses = {"logcosh": custom_loss("logcosh", "log(cosh(yhat - y))")}
    net = derive.mlp(sizes, activations=acts, loss=loss, convention=conv, reduction=reduction,
                     custom_activations=customs, custom_losses=losses)
    d = derive.backprop(net)
    rng = np.random.default_rng(7)
    params = {name: rng.normal(size=shape) for name, shape in net.param_shapes().items()}
    X = rng.normal(size=(sizes[0], 5))
    Y = reference.targets(net.loss.targets, sizes[-1], 5, rng)
    grads = d.evaluate(params, X, Y)
    numeric = reference.central_differences(
        lambda p: reference.batch_loss(p, X, Y, acts, loss, conv, reduction), params)
    for name in params:
        assert grads[name].shape == params[name].shape
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8)
    assert d.loss_value(params, X, Y) == pytest.approx(
        reference.batch_loss(params, X, Y, acts, loss, conv, reduction), rel=1e-12)


def test_evaluate_rejects_wrong_shapes():
    d = derive.backprop(derive.mlp([2, 3, 1]))
    params = {"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)), "W2": np.zeros((1, 3)),
              "b2": np.zeros((1, 1))}
    with pytest.raises(derive.BadInput, match="X has shape"):
        d.evaluate(params, np.zeros((3, 4)), np.zeros((1, 4)))
    with pytest.raises(derive.BadInput, match="params\\['W1'\\]"):
        d.evaluate({**params, "W1": np.zeros((2, 3))}, np.zeros((2, 4)), np.zeros((1, 4)))


# --- structure of the derivation --------------------------------------------------------------

@pytest.mark.parametrize("conv,shapes", [
    ("rows", {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}),
    ("columns", {"W1": (2, 3), "b1": (3, 1), "W2": (3, 1), "b2": (1, 1)}),
    ("augmented", {"W1": (3, 3), "W2": (1, 4)}),
])
def test_parameter_names_and_shapes(conv, shapes):
    net = derive.mlp([2, 3, 1], convention=conv)
    assert net.param_shapes() == shapes
    d = derive.backprop(net)
    assert {n: g.shape for n, g in d.gradients.items()} == shapes


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_steps_are_in_the_requested_layout(layout):
    d = derive.backprop(derive.mlp([2, 3, 1]), layout=layout)
    first = {s.lhs.kind: s for s in d.steps}        # the last step of each kind: layer 1
    transpose = layout == "denominator"
    assert first["P"].rhs.shape == ((1, 3) if not transpose else (3, 1))      # P^2 = ∂C/∂a^1
    assert first["df/da"].rhs.shape == ((3, 2) if not transpose else (2, 3))  # ∂f^1/∂a^0
    assert first["df/dw"].rhs.shape == ((3, 2) if not transpose else (2, 3))  # seed 003: n_j × n_{j-1}
    assert first["df/db"].rhs.shape == (3, 3)
    assert d.derivative("W1").shape == ((2, 3) if not transpose else (3, 2))  # SPEC §3.1


def test_seed_003_per_neuron_jacobian_has_one_nonzero_row():
    d = derive.backprop(derive.mlp([2, 3, 1], convention="columns"))
    for step in d.steps:
        if step.lhs.kind == "df/dw" and step.lhs.layer == 1:
            nonzero = [i for i in range(step.rhs.rows) if any(e != 0 for e in step.rhs.row(i))]
            assert nonzero == [step.lhs.index - 1]       # "line k" of seed 003


def test_every_step_cites_a_known_rule_and_forward_steps_use_fresh_symbols():
    net = derive.mlp([2, 3, 3, 1], activation="tanh", loss="mse")
    d = derive.backprop(net)
    for step in d.steps:
        if step.lhs.kind == "z":
            layer = net.layers[step.lhs.layer - 1]
            allowed = set(layer.inputs) | set(layer.W) | set(layer.b)
            assert step.rhs.free_symbols <= allowed     # never the whole network expanded
    assert [s.rule for s in d.steps].count("recursion") == 2


def test_derivation_is_deterministic_across_calls():
    def derivation():
        return derive.backprop(derive.mlp([2, 3, 2], activations=["tanh", "softmax"],
                                          loss="cross_entropy"))
    a, b = derivation(), derivation()
    assert [s.as_dict() for s in a.steps] == [s.as_dict() for s in b.steps]


# --- the term index: sum rule plus the linear-term shortcut, against sympy.diff ---------------

def test_term_index_jacobian_equals_sympy_diff():
    from derive.calculus.concrete import TermIndex

    a, b, c = sp.symbols("a b c", real=True)
    sig = derive.ACTIVATIONS.get("sigmoid").function
    outputs = [
        3 * a * b + 2 * a * c + c,              # linear in each symbol: the shortcut
        a * b * a + a ** 2 * c - b,             # powers of a: sympy.diff
        sig(a * b) * c + a * sp.exp(a),         # a also in another factor: sympy.diff
        sp.Rational(1, 2) * a + sp.sin(b) * a,  # coefficient and function factors
        sp.S.Zero,
        a,
    ]
    index = TermIndex(outputs)
    expected = sp.Matrix(outputs).jacobian([a, b, c])
    assert index.jacobian([a, b, c]) == expected
    # memoised values come back equal, and occurrences name exactly the outputs containing b
    assert index.jacobian([c, b, a]) == sp.Matrix(outputs).jacobian([c, b, a])
    assert index.occurrences(b) == [0, 1, 2, 3]
    assert index.jacobian_rows([a])[5] == [1]


# --- the compiled straight-line program -----------------------------------------------------

def test_program_evaluate_compiles_once_and_honours_given_values():
    import mpmath

    x, y, u, v = sp.symbols("x y u v", real=True)
    program = Program(((u, x * y), (v, u + sp.exp(x) / 2)))
    assert program.evaluate({x: 2.0, y: 3.0}, [v])[v] == pytest.approx(6 + np.exp(2) / 2,
                                                                       rel=1e-15)
    # a given symbol is not recomputed, even though the program defines it
    assert program.evaluate({x: 2.0, y: 3.0, u: 10.0}, [v])[v] == pytest.approx(
        10 + np.exp(2) / 2, rel=1e-15)
    batch = program.evaluate({x: np.array([0.0, 1.0]), y: np.array([5.0, 7.0])}, [u, v])
    np.testing.assert_allclose(batch[v], [0.5, 7 + np.e / 2], rtol=1e-15)
    with mpmath.workdps(15):              # digits=40 evaluates at 40 digits whatever the context
        value = program.evaluate({x: mpmath.mpf(1), y: mpmath.mpf(1) / 4}, [v], digits=40)[v]
    with mpmath.workdps(40):
        assert abs(value - (mpmath.mpf(1) / 4 + mpmath.e / 2)) < mpmath.mpf(10) ** -35
    with pytest.raises(KeyError, match="y"):
        program.evaluate({x: 1.0}, [v])


def test_evaluate_twice_with_new_values_matches_finite_differences():
    sizes, acts, loss = [3, 4, 2], ["tanh", "sigmoid"], "bce"
    net = derive.mlp(sizes, activations=acts, loss=loss)
    d = derive.backprop(net)
    rng = np.random.default_rng(11)
    for N in (3, 6):                       # the second call reuses the compiled program
        params = {name: rng.normal(size=shape) for name, shape in net.param_shapes().items()}
        X = rng.normal(size=(sizes[0], N))
        Y = reference.targets(net.loss.targets, sizes[-1], N, rng)
        grads = d.evaluate(params, X, Y)
        numeric = reference.central_differences(
            lambda p: reference.batch_loss(p, X, Y, acts, loss, "rows"), params)
        for name in params:
            np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8)
