"""The backprop derivation against independent truth.

* every gradient equals ``sympy.diff`` of the composed per-sample cost *with every activation
  written out first* (:func:`expand_activations`), so the reference derivative comes from the
  activation's formula and never from the registry's ``fdiff`` / ``derivative_at`` that the
  engine uses; both are compared at random exact rational points with 50 digits, away from
  kinks, for every activation × loss × convention at 2-3-1, a deterministic third of them at
  3-4-2, a 4-layer network per activation, and softmax outputs;
* ``Derivation.evaluate`` equals central finite differences of a hand-written NumPy loss;
* the fused output simplifications are found for sigmoid+bce, softmax+cross_entropy and
  identity+mse however the activation is spelled, and only where the algebra gives them.
"""

from __future__ import annotations

import json
import random

import mpmath
import numpy as np
import pytest
import sympy as sp

import derive
from derive.activations import ActivationFunction, softmax
from derive.activations import custom as custom_activation
from derive.activations import expand_activations
from derive.fusion import fuse_output
from derive.printing.forms import form_text
from derive.program import Program
from derive.render import render
from derive.losses import custom as custom_loss
from tests import cases, reference

# Generated from the case table (tests/cases.py): a new entry joins every sweep below with no
# test change, and which output meets which loss follows from the entries' metadata.
ELEMENTWISE = cases.ELEMENTWISE
LOSSES = cases.LOSSES
CONVENTIONS = ["rows", "columns", "augmented"]


def output_for(loss, act):
    """The output activation for a sweep cell: the swept one where it pairs with the loss (and
    its derivative is not identically zero), else the case table's first one that does."""
    return cases.output_activation(loss, act)


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


def reference_gradients(net):
    """[(θ, ∂C/∂θ)] from ``sympy.diff`` of the composed cost with every activation written out.

    Writing the activations out *before* differentiating means the derivative comes from the
    activation's formula (1/(1 + exp(−x)), Max(0, x), exp(z_i)/Σ exp(z_k), …), not from the
    registry's function classes, whose ``fdiff`` is the engine's own ``derivative_at``.
    Dirac deltas (derivatives of steps) are zero away from the kinks, where the cells are
    evaluated.
    """
    cost = expand_activations(net.explicit().composed_cost())
    assert not cost.has(ActivationFunction, softmax)
    thetas = [theta for params in net.explicit().params().values() for theta in params]
    return cost, [(theta, sp.diff(cost, theta).replace(sp.DiracDelta, lambda *args: sp.S.Zero))
                  for theta in thetas]


def random_point(net, symbols, rng):
    """Exact rationals in about [−3, 3], targets drawn from the loss's target domain."""
    point = {s: sp.Rational(rng.randint(-300, 300), rng.choice([101, 103, 107])) for s in symbols}
    ys = list(net.explicit().y)
    if net.loss.targets == "simplex":
        raw = [sp.Rational(rng.randint(1, 50), 7) for _ in ys]
        point.update({y: r / sum(raw) for y, r in zip(ys, raw)})
    elif net.loss.targets == "sign":
        point.update({y: rng.choice([-1, 1]) for y in ys})
    elif net.loss.targets == "binary":
        point.update({y: sp.Rational(rng.randint(5, 95), 100) for y in ys})
    return point


def assert_matches_reference(net, points=3, seed=0, layout="numerator"):
    """Every gradient entry equals :func:`reference_gradients` at ``points`` random exact
    rational points, both sides evaluated with 50 digits.  Returns the derivation.

    A point where a branch argument of the cost vanishes (a kink, where conventions for the
    derivative differ) is replaced by another, and so, while candidates last, is a point where
    some parameter's reference gradient is entirely zero (an inactive relu or hinge there
    would hide a wrong factor in every layer below it)."""
    d = derive.backprop(net, layout=layout)
    cost, reference_pairs = reference_gradients(net)
    thetas = [theta for theta, _ in reference_pairs]
    branches = list(_branch_points(cost))
    explicit = net.explicit()
    symbols = sorted(cost.free_symbols | set(explicit.x) | set(explicit.y) | set(thetas),
                     key=sp.default_sort_key)
    direct = sp.lambdify(symbols, [g for _, g in reference_pairs] + branches, "mpmath", cse=True)
    gradients = [entry for name in explicit.params() for entry in d.gradient(name)]
    assert len(gradients) == len(thetas)
    for name, symbols_of in explicit.params().items():
        assert d.gradient(name).shape == symbols_of.shape
    outputs = [sp.Symbol(f"_check{i}") for i in range(len(gradients))]
    program = Program(d.program.definitions + tuple(zip(outputs, gradients)))
    blocks, start = [], 0                       # positions of each parameter's entries
    for symbols_of in explicit.params().values():
        blocks.append(range(start, start + len(symbols_of)))
        start += len(symbols_of)
    rng = random.Random(seed)
    checked = tries = 0
    while checked < points:
        tries += 1
        assert tries < 40 * points, "no point away from the kinks"
        point = random_point(net, symbols, rng)
        with mpmath.workdps(50):
            values = {s: mpmath.mpf(v) if isinstance(v, int) else mpmath.mpf(v.p) / v.q
                      for s, v in point.items()}
            want = list(direct(*values.values()))
            want, kinks = want[:len(thetas)], want[len(thetas):]
            if any(abs(k) < mpmath.mpf(10) ** -30 for k in kinks):
                continue
            inactive = any(all(want[i] == 0 for i in block) for block in blocks)
            if inactive and tries < 10 * points:
                continue
            derived = program.evaluate(values, outputs, digits=50)
            for theta, value, out in zip(thetas, want, outputs):
                assert abs(value - derived[out]) <= mpmath.mpf(10) ** -30 * max(1, abs(value)), \
                    (str(net.describe()), str(theta), value, derived[out])
        checked += 1
    return d


def sizes_for(loss, sizes):
    """``sizes`` with as many outputs as the loss's targets need to vary (simplex targets of one
    output are all 1: cross_entropy gets two); the sweeps' outputs are elementwise."""
    return sizes[:-1] + [cases.output_width(loss, sizes[-1])]


SWEEP = [(act, loss, conv) for act in ELEMENTWISE for loss in LOSSES for conv in CONVENTIONS]
# A deterministic third at 3-4-2: every activation × loss once, the convention rotating.
SWEEP_342 = [(act, loss, CONVENTIONS[(i + k) % 3]) for i, act in enumerate(ELEMENTWISE)
             for k, loss in enumerate(LOSSES)]
# One 4-layer network per activation; together they use every loss and every convention.
# (hidden activation, output activation, loss, convention); the output is the hidden one where
# it pairs with the loss and is not flat (step's is identity: some gradient is nonzero).
DEEP = [(ELEMENTWISE[i % len(ELEMENTWISE)],
         output_for(LOSSES[i % len(LOSSES)], ELEMENTWISE[i % len(ELEMENTWISE)]),
         LOSSES[i % len(LOSSES)], CONVENTIONS[i % len(CONVENTIONS)])
        for i in range(max(len(ELEMENTWISE), len(LOSSES)))]
SOFTMAX_LOSSES = cases.losses_for("softmax", 3)


@pytest.mark.parametrize("act,loss,conv", SWEEP)
def test_every_activation_loss_convention(act, loss, conv):
    net = derive.mlp(sizes_for(loss, [2, 3, 1]), activations=[act, output_for(loss, act)],
                     loss=loss, convention=conv)
    assert_matches_reference(net)


@pytest.mark.parametrize("act,loss,conv", SWEEP_342)
def test_every_activation_loss_at_3_4_2(act, loss, conv):
    net = derive.mlp([3, 4, 2], activations=[act, output_for(loss, act)], loss=loss,
                     convention=conv)
    assert_matches_reference(net, points=2)


def test_sweeps_cover_every_activation_loss_and_convention():
    assert {(a, l) for a, l, _ in SWEEP_342} == {(a, l) for a in ELEMENTWISE for l in LOSSES}
    assert {c for *_, c in SWEEP_342} == set(CONVENTIONS)
    assert {a for a, *_ in DEEP} == set(ELEMENTWISE)
    assert {loss for *_, loss, _ in DEEP} == set(LOSSES)
    assert {c for *_, c in DEEP} == set(CONVENTIONS)


@pytest.mark.parametrize("act,out,loss,conv", DEEP)
def test_four_layer_network_per_activation(act, out, loss, conv):
    net = derive.mlp(sizes_for(loss, [2, 2, 3, 2, 1]), activations=[act, act, act, out],
                     loss=loss, convention=conv)
    assert net.depth == 4
    assert_matches_reference(net, points=2)


@pytest.mark.parametrize("conv", CONVENTIONS)
@pytest.mark.parametrize("loss", SOFTMAX_LOSSES)
def test_softmax_output(conv, loss):
    net = derive.mlp([2, 3, 3], activations=["tanh", "softmax"], loss=loss, convention=conv)
    assert_matches_reference(net)


@pytest.mark.parametrize("loss", SOFTMAX_LOSSES)
def test_softmax_output_at_3_4_3(loss):
    conv = CONVENTIONS[SOFTMAX_LOSSES.index(loss) % 3]
    net = derive.mlp([3, 4, 3], activations=["relu", "softmax"], loss=loss, convention=conv)
    assert_matches_reference(net, points=2)


@pytest.mark.parametrize("conv", CONVENTIONS)
def test_softmax_hidden_layer(conv):
    net = derive.mlp([2, 3, 1], activations=["softmax", "sigmoid"], loss="bce", convention=conv)
    assert_matches_reference(net)


@pytest.mark.parametrize("sizes,acts,loss,conv", [
    ([3, 4, 2], ["tanh", "sigmoid"], "bce", "rows"),
    ([3, 4, 2], ["relu", "identity"], "huber(2)", "columns"),
    ([3, 4, 2], ["softplus", "softmax"], "cross_entropy", "augmented"),
    ([3, 4, 2], ["leaky_relu(0.2)", "tanh"], "l1", "rows"),
    ([2, 3, 3, 3, 1], ["tanh", "sigmoid", "relu", "sigmoid"], "bce", "rows"),
    ([2, 3, 3, 3, 2], ["sigmoid", "tanh", "softplus", "softmax"], "cross_entropy", "columns"),
    ([2, 3, 3, 3, 1], ["tanh", "tanh", "tanh", "identity"], "logistic", "augmented"),
    ([2, 3, 3, 3, 1], ["step", "relu", "tanh", "identity"], "hinge", "rows"),
])
def test_mixed_larger_networks(sizes, acts, loss, conv):
    assert_matches_reference(derive.mlp(sizes, activations=acts, loss=loss, convention=conv),
                             points=1)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_gradients_do_not_depend_on_the_layout(layout):
    net = derive.mlp([2, 3, 2], activations=["tanh", "sigmoid"], loss="bce", convention="columns")
    assert_matches_reference(net, points=1, layout=layout)


def test_user_defined_activation_and_loss():
    swish = custom_activation("swish", "x / (1 + exp(-x))")
    logcosh = custom_loss("logcosh", "log(cosh(yhat - y))")
    for conv in CONVENTIONS:
        d = assert_matches_reference(derive.mlp([2, 3, 1], activation=swish, loss=logcosh,
                                                convention=conv))
        assert d.simplification is None


def test_user_defined_from_python_expressions():
    x, yhat, y = sp.Symbol("x", real=True), sp.Symbol("yhat", real=True), sp.Symbol("y", real=True)
    net = derive.mlp([2, 2, 1], activation=x ** 3 / 3 + x, loss=(yhat - y) ** 4)
    assert_matches_reference(net)


def test_user_activation_with_textbook_derivative_is_checked():
    good = custom_activation("swish2", "x*sigmoid(x)", derivative="sigmoid(x) + x*sigmoid(x)*(1 - sigmoid(x))")
    assert good.check.against == "sympy_diff" and good.check.method in ("exact",
                                                                         "rational_points")
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
    assert step.rule in ("simplify", "target_domain") and step.check.against == "unfused"
    L = net.explicit().layers[-1]
    assert list(step.rhs) == [a - y for a, y in zip(L.a, net.explicit().y)]


SIGMOID_SPELLINGS = ["1/(1+exp(-x))", "exp(x)/(1+exp(x))"]


def _fused_step(d):
    return next(s for s in d.steps if s.lhs.kind == "dC/dz")


@pytest.mark.parametrize("sizes", [[2, 3, 1], [2, 3, 2]])
@pytest.mark.parametrize("spelling", SIGMOID_SPELLINGS)
def test_user_spelled_sigmoid_with_bce_is_recognised_as_the_builtin(spelling, sizes):
    """No name is special-cased: the fusion is found by simplifying the user's formula."""
    builtin = derive.backprop(derive.mlp(sizes, activations=["tanh", "sigmoid"], loss="bce"))
    for act in (spelling, custom_activation("mysig", spelling)):
        net = derive.mlp(sizes, activations=["tanh", act], loss="bce")
        assert net.layers[-1].activation.name != "sigmoid"
        d = assert_matches_reference(net, points=2)
        assert d.simplification == builtin.simplification == "dC/dz^2 = yhat - y"
        step = _fused_step(d)
        assert step.rule == "simplify" and step.check.against == "unfused"
        assert step.check.method in ("exact", "rational_points")
        assert step.rhs == _fused_step(builtin).rhs
        assert list(d.gradients) == list(builtin.gradients)
        assert [d.program.lookup()[s] for s in d.gradients["b2"]] == \
            [builtin.program.lookup()[s] for s in builtin.gradients["b2"]]


@pytest.mark.parametrize("act,loss,fused", [
    ("x", "mse", True),                                   # a user's identity
    ("(exp(x) - exp(-x))/(exp(x) + exp(-x))", "mse", False),   # a user's tanh
    ("1/(1+exp(-x))", "mse", False),
    ("1/(1+exp(-x))", "squared", False),
    ("1/(1+exp(-x))", "cross_entropy", False),
    ("x/(1+exp(-x))", "mse", False),
    ("log(1+exp(x))", "mse", False),
])
def test_user_activations_are_fused_only_where_the_algebra_says_so(act, loss, fused):
    net = derive.mlp([2, 3, 2], activations=["tanh", custom_activation("user", act)], loss=loss)
    d = assert_matches_reference(net, points=1)
    assert (d.simplification == "dC/dz^2 = yhat - y") is fused
    if fused:
        explicit = net.explicit()
        assert list(_fused_step(d).rhs) == [a - y for a, y in zip(explicit.layers[-1].a,
                                                                  explicit.y)]


@pytest.mark.parametrize("act,loss,n,fused", [
    ("softmax", "cross_entropy", 3, True), ("sigmoid", "bce", 2, True),
    ("identity", "mse", 2, True), ("softmax", "mse", 3, False), ("tanh", "mse", 2, False),
    ("sigmoid", "cross_entropy", 2, False),
])
def test_fusion_without_an_output_form_is_derived_in_z(monkeypatch, request, act, loss, n,
                                                       fused):
    """With no form of Φ' in Φ's outputs, ℓ'(Φ(z), y) Φ'(z) written out in z is tested for
    being Φ(z) − y: the built-in fusions come out, the others not.  (Softmax's fusion never
    needs such a form: it rests on s ⊙ ℓ'(s, y) = c y and Σ_k y_k = 1.)"""
    monkeypatch.setattr(derive.activations.Activation, "derivative_in_output",
                        lambda self, output: None)
    fuse_output.cache_clear()               # fusions found with the forms in a^L are kept
    request.addfinalizer(fuse_output.cache_clear)
    net = derive.mlp([2, 3, n], activations=["tanh", act], loss=loss)
    d = assert_matches_reference(net, points=1)
    assert (d.simplification == "dC/dz^2 = yhat - y") is fused
    if fused:
        step = _fused_step(d)
        assert step.check.against == "unfused"
        if act != "softmax":
            assert "written out" in form_text(d, step)
        else:
            assert step.check.condition == "simplex"


def test_user_cross_entropy_on_the_simplex_with_softmax_is_recognised():
    ce = custom_loss("myce", "-y*log(yhat)", targets="simplex")
    d = assert_matches_reference(derive.mlp([2, 3, 3], activations=["tanh", "softmax"], loss=ce))
    assert d.simplification == "dC/dz^2 = yhat - y"


@pytest.mark.parametrize("act,loss", [("tanh", "mse"), ("sigmoid", "mse"), ("relu", "mse"),
                                      ("sigmoid", "squared"), ("identity", "l1"),
                                      ("softplus", "mse"), ("leaky_relu", "mse")])
def test_no_simplification_claimed_where_there_is_none(act, loss):
    d = derive.backprop(derive.mlp([2, 2, 1], activations=["tanh", act], loss=loss))
    assert d.simplification is None
    assert all(s.lhs.kind != "dC/dz" or "recognised" not in form_text(d, s) for s in d.steps)


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
    assert first["df/dw"].rhs.shape == ((3, 2) if not transpose else (2, 3))  # Ensimag: n_j × n_{j-1}
    assert first["df/db"].rhs.shape == (3, 3)
    assert d.derivative("W1").shape == ((2, 3) if not transpose else (3, 2))  # SPEC §3.1


@pytest.mark.parametrize("conv", CONVENTIONS)
def test_results_follow_the_networks_parameter_order(conv):
    from derive.printing.json_doc import derivation_dict
    from derive.printing.text import render_text

    net = derive.mlp([2, 3, 2, 1], activation="tanh", loss="mse", convention=conv)
    d = derive.backprop(net)
    order = list(net.explicit().params())
    assert order[:2] == ["W1", "b1"] or order == ["W1", "W2", "W3"]
    assert list(d.gradients) == list(d.p_form) == order
    rng = np.random.default_rng(0)
    params = {name: rng.normal(size=shape) for name, shape in net.param_shapes().items()}
    assert list(d.evaluate(params, rng.normal(size=(2, 3)), rng.normal(size=(1, 3)))) == order
    assert list(json.loads(json.dumps(derivation_dict(d)))["gradients"]) == order
    text = render_text(d)
    printed = [line.split()[0][len("grad_"):] for line in text.splitlines()
               if line.startswith("  grad_")]
    assert printed == order


#: (kind, numerator form, denominator form) of the backward steps of layer 2 of 2-3-2-1.
LAYOUT_FORMS = [
    ("df/da", "df^2/da^1 = dPhi^2/dz^2 . dpsi^2/da^1", "df^2/da^1 = dpsi^2/da^1 . dPhi^2/dz^2"),
    ("df/dw", "df^2/dw_k^2 = dPhi^2/dz^2 . dpsi^2/dw_k^2",
     "df^2/dw_k^2 = dpsi^2/dw_k^2 . dPhi^2/dz^2"),
    ("df/db", "df^2/db^2 = dPhi^2/dz^2 . dpsi^2/db^2", "df^2/db^2 = dpsi^2/db^2 . dPhi^2/dz^2"),
    ("dE/dw", "dE/dw_k^2 = P^3 . df^2/dw_k^2", "dE/dw_k^2 = df^2/dw_k^2 . P^3"),
    ("dE/db", "dE/db^2 = P^3 . df^2/db^2", "dE/db^2 = df^2/db^2 . P^3"),
    ("P", "P^2 = P^3 . df^2/da^1", "P^2 = df^2/da^1 . P^3"),
]


@pytest.mark.parametrize("kind,numerator,denominator", LAYOUT_FORMS)
def test_step_forms_follow_the_layout(kind, numerator, denominator):
    net = derive.mlp([2, 3, 2, 1], activation="tanh", loss="mse")
    for layout, form in (("numerator", numerator), ("denominator", denominator)):
        d = derive.backprop(net, layout=layout)
        forms = {form_text(d, s) for s in d.steps if s.lhs.kind == kind and s.lhs.layer == 2}
        assert forms == {form}, layout


@pytest.mark.parametrize("conv", CONVENTIONS)
def test_denominator_forms_agree_with_the_values_they_label(conv):
    """In each layout, the product the form names, of the values of the steps it names, is the
    value of the step: denominator values are transposes, so their product is reversed."""
    net = derive.mlp([2, 3, 2, 1], activations=["tanh", "sigmoid", "identity"], loss="mse",
                     convention=conv)
    for layout in ("numerator", "denominator"):
        d = derive.backprop(net, layout=layout)
        values = {}
        for step in d.steps:
            values[(step.lhs.kind, step.lhs.layer, step.lhs.index)] = step.rhs
        for step in d.steps:
            if step.lhs.kind not in ("dE/dw", "dE/db", "P") or step.rule == "recursion_start":
                continue
            j, k = step.lhs.layer, step.lhs.index
            jacobian = values[("df/dw", j, k) if step.lhs.kind == "dE/dw"
                              else ("df/db", j, None) if step.lhs.kind == "dE/db"
                              else ("df/da", j, None)]
            signal = values[("P", j + 1, None)]
            P_symbols = sp.Matrix(signal.shape[0], signal.shape[1],
                                  [sp.Symbol(f"P{j + 1}_{i + 1}", real=True)
                                   for i in range(len(signal))])
            if layout == "numerator":
                assert form_text(d, step).split(" = ")[1].startswith("P^")
                assert step.rhs == P_symbols * jacobian
            else:
                assert form_text(d, step).split(" = ")[1].endswith(f"P^{j + 1}")
                assert (step.rhs - jacobian * P_symbols).applyfunc(sp.expand) == \
                    sp.zeros(*step.rhs.shape)


def test_ensimag_per_neuron_jacobian_has_one_nonzero_row():
    d = derive.backprop(derive.mlp([2, 3, 1], convention="columns"))
    for step in d.steps:
        if step.lhs.kind == "df/dw" and step.lhs.layer == 1:
            nonzero = [i for i in range(step.rhs.rows) if any(e != 0 for e in step.rhs.row(i))]
            assert nonzero == [step.lhs.index - 1]       # "line k" of Ensimag


def test_every_step_cites_a_known_rule_and_forward_steps_use_fresh_symbols():
    net = derive.mlp([2, 3, 3, 1], activation="tanh", loss="mse")
    d = derive.backprop(net)
    for step in d.steps:
        if step.lhs.kind == "z":
            layer = net.explicit().layers[step.lhs.layer - 1]
            allowed = set(layer.inputs) | set(layer.W) | set(layer.b)
            assert step.rhs.free_symbols <= allowed     # never the whole network expanded
    assert [s.rule for s in d.steps].count("recursion") == 2


def test_derivation_is_deterministic_across_calls():
    def derivation():
        return derive.backprop(derive.mlp([2, 3, 2], activations=["tanh", "softmax"],
                                          loss="cross_entropy"))
    a, b = derivation(), derivation()
    assert a.steps == b.steps and render(a, "json") == render(b, "json")


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
