"""Every activation and loss of the case table (tests/cases.py) gets the same checks.

Per activation case: its derivative, as the engine differentiates it (through the entry's SymPy
function), equals ``sympy.diff`` of its formula, and so does its textbook form; its value range
is tight; its formula agrees with the hand-written NumPy reference; its lambdified derivative
matches central differences in float64 away from its kinks; its LaTeX name reads back as the
same expression (or is refused, never misread); and a 2-layer network with it goes through code
generation and passes the generated module's own check.  Per loss case: the same derivative,
finite-difference and code-generation checks, and its metadata (prediction domain, margin).

The pairing rule of the table is held to :func:`derive.network.check_pairing`: over every
activation × loss × output count, :func:`derive.mlp` refuses a pair exactly when the rule calls
it invalid.
"""

from __future__ import annotations

import random
import types

import numpy as np
import pytest
import sympy as sp

import derive
from derive.activations import expand_activations
from derive.activations import x as X_SYMBOL
from derive.calculus.matrix_nodes import elementwise
from derive.calculus.matrix_printing import latex_matrix
from derive.codegen import generate_numpy
from derive.losses import y as Y_SYMBOL
from derive.losses import yhat as YHAT_SYMBOL
from derive.targets import TARGET_DOMAINS, draw_targets
from tests import cases, reference

ACTIVATIONS = cases.ACTIVATION_CASES
ELEMENTWISE = [c for c in ACTIVATIONS if not c.entry.vector_valued]
VECTOR = [c for c in ACTIVATIONS if c.entry.vector_valued]
LOSSES = cases.LOSS_CASES
#: SymPy nodes the LaTeX reader has no syntax for as SymPy prints them (``\max``, ``\theta``).
UNREAD_BY_READER = (sp.Max, sp.Min, sp.Heaviside, sp.Piecewise)


def without_deltas(expr):
    """Dirac deltas (derivatives of steps) are zero away from the kinks, where we evaluate."""
    return expr.replace(sp.DiracDelta, lambda *args: sp.S.Zero)


def rational_points(count, seed, avoid=(), low=-3, high=3):
    """Exact rationals in [low, high] at least 1/50 from every point of ``avoid``."""
    rng = random.Random(seed)
    points = []
    while len(points) < count:
        point = sp.Rational(rng.randint(low * 97, high * 97), 97)
        if all(abs(point - k) > sp.Rational(1, 50) for k in avoid):
            points.append(point)
    return points


def assert_equal_functions(got, want, variables, points, what):
    """``got == want`` exactly, or at every point (dicts of exact values) to 50 digits."""
    if sp.simplify(got - want) == 0:
        return
    for point in points:
        left, right = sp.N(got.subs(point), 50), sp.N(want.subs(point), 50)
        assert abs(left - right) <= sp.Float(10) ** -40 * max(1, abs(right)), \
            (what, point, got, want)


def float_points(count, seed, avoid=(), low=-3.0, high=3.0):
    """Floats in [low, high] at least 1e-3 from every kink (finite differences cross none)."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, size=4 * count)
    for kink in avoid:
        values = values[np.abs(values - float(kink)) > 1e-3]
    return values[:count]


def central_difference(f, points, h=1e-6):
    return (f(points + h) - f(points - h)) / (2 * h)


# --- the table itself --------------------------------------------------------------------------

@pytest.mark.parametrize("registry", [derive.ACTIVATIONS, derive.LOSSES], ids=["act", "loss"])
def test_the_table_covers_every_registered_name_and_factory(registry):
    table = ACTIVATIONS if registry is derive.ACTIVATIONS else LOSSES
    ids = {c.id for c in table}
    assert set(registry.names()) <= ids
    assert set(cases.FACTORY_ARGUMENTS) <= set(derive.ACTIVATIONS.names()) | set(
        derive.LOSSES.names())
    with_parameters = {n for n in registry.names() if registry.get(n).family is not None}
    assert set(cases.FACTORY_ARGUMENTS) & set(registry.names()) == with_parameters
    for name in with_parameters:
        family, default = registry.get(name).family
        assert family == name and registry.get(f"{name}({default})") == registry.get(name)
        for argument in cases.FACTORY_ARGUMENTS[name]:
            assert f"{name}({argument})" in ids
            assert registry.get(f"{name}({argument})").family == (name, argument)
    for name in set(registry.names()) - with_parameters:   # the family says who takes one
        with pytest.raises(derive.BadInput, match="bad parameters"):
            registry.get(f"{name}(1/3)")


def test_every_case_has_a_reference_and_a_pairing():
    for case in ACTIVATIONS:
        assert reference.activation(case.entry) is not None
        assert any(p.activation is case for p in cases.PAIRING_CASES), case.id
    for case in LOSSES:
        assert reference.loss(case.entry) is not None
        assert case.entry.targets in TARGET_DOMAINS
        assert cases.pairing_for(case.entry).loss is case


def test_the_pairing_rule_agrees_with_check_pairing():
    """Refused by :func:`derive.mlp` (which calls check_pairing) ⇔ invalid by the table's rule,
    over every activation case × loss case × output count below, at and above min_outputs."""
    disagreements = []
    for act in ACTIVATIONS:
        for loss in LOSSES:
            for n_out in (1, 2):
                try:
                    derive.mlp([1, n_out], activations=[act.spec], loss=loss.spec)
                    refused = False
                except derive.BadInput:
                    refused = True
                if refused == cases.valid_pairing(act.entry, loss.entry, n_out):
                    disagreements.append((act.id, loss.id, n_out, refused))
    assert not disagreements


# --- activations -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", ELEMENTWISE, ids=cases.case_id)
def test_activation_derivative_is_sympy_diff_of_its_formula(case):
    entry, x = case.entry, X_SYMBOL
    want = without_deltas(sp.diff(entry.expr, x))
    points = [{x: p} for p in rational_points(8, 1, entry.kinks)]
    # the engine differentiates Φ(x) through the entry's function class (fdiff)
    engine = expand_activations(sp.diff(entry.apply(x), x))
    assert_equal_functions(engine, want, [x], points, "engine")
    assert_equal_functions(expand_activations(entry.printed_derivative), want, [x], points,
                           "printed (textbook) form")
    output = sp.Dummy("a")
    in_output = entry.derivative_in_output(output)
    if in_output is not None:                        # σ' = a(1 − a) with a = σ(x)
        assert_equal_functions(expand_activations(in_output.subs(output, entry.apply(x))),
                               want, [x], points, "derivative in the output")


@pytest.mark.parametrize("case", VECTOR, ids=cases.case_id)
def test_vector_activation_jacobian_is_sympy_diff_of_its_formula(case):
    z = sp.Matrix(sp.symbols("z1:4", real=True))
    s = case.entry.apply_vector(z)
    explicit = expand_activations(s)
    assert explicit.jacobian(z).shape == (3, 3)
    rng = random.Random(2)
    values = [{t: sp.Rational(rng.randint(-300, 300), 97) for t in z} for _ in range(3)]
    want = explicit.jacobian(z)
    for got in (case.entry.jacobian(z), case.entry.jacobian_in_output(s)):
        for g, w in zip(expand_activations(got), want):
            assert_equal_functions(g, w, list(z), values, case.id)


@pytest.mark.parametrize("case", ACTIVATIONS, ids=cases.case_id)
def test_activation_value_range_holds_and_registered_ones_are_tight(case):
    entry, x = case.entry, X_SYMBOL
    if entry.vector_valued:
        z = sp.Matrix(sp.symbols("z1:4", real=True))
        formula = expand_activations(case.entry.apply_vector(z))[0].subs({z[1]: 0, z[2]: 0})
        formula = formula.subs(z[0], x)             # entry 1 as its own logit moves
    else:
        formula = entry.expr
    grid = [sp.Rational(k, 4) for k in range(-24, 25)] + list(entry.kinks)
    values = [formula.subs(x, t) for t in grid]
    assert all(entry.value_range.contains(v) == sp.true for v in values), case.id
    if not case.registered:
        return                                       # a user's range is not declared
    low, high = entry.value_range.inf, entry.value_range.sup
    limits = [sp.limit(formula, x, -sp.oo), sp.limit(formula, x, sp.oo)]
    assert min([*values, *limits]) == low and max([*values, *limits]) == high
    # closed exactly where the bound is attained
    assert (low in entry.value_range) == (low in values)
    assert (high in entry.value_range) == (high in values)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=cases.case_id)
def test_activation_numpy_code_matches_reference_and_finite_differences(case):
    entry, x = case.entry, X_SYMBOL
    f = sp.lambdify(x, entry.expr, "numpy")
    fprime = sp.lambdify(x, expand_activations(entry.printed_derivative), "numpy")
    points = float_points(32, 3, entry.kinks)
    np.testing.assert_allclose(f(points), reference.activation(entry)(points),
                               rtol=1e-12, atol=1e-15)
    derivative = np.broadcast_to(fprime(points), points.shape)
    np.testing.assert_allclose(derivative, central_difference(f, points), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", VECTOR, ids=cases.case_id)
def test_vector_activation_numpy_code_matches_reference_and_finite_differences(case):
    z = sp.Matrix(sp.symbols("z1:4", real=True))
    explicit = expand_activations(case.entry.apply_vector(z))
    f = sp.lambdify([list(z)], list(explicit), "numpy")
    jacobian = sp.lambdify([list(z)], expand_activations(case.entry.jacobian(z)), "numpy")
    rng = np.random.default_rng(4)
    for point in rng.uniform(-3, 3, size=(4, 3)):
        np.testing.assert_allclose(f(point), reference.activation(case.entry)(point), rtol=1e-12)
        numeric = np.column_stack([(np.array(f(point + h)) - np.array(f(point - h))) / 2e-6
                                   for h in np.eye(3) * 1e-6])
        np.testing.assert_allclose(np.array(jacobian(point), dtype=float), numeric, rtol=1e-6,
                                   atol=1e-9)


def read_back(text, variable, shape=None):
    """What ``derive.jacobian`` reads ``text`` as (its LaTeX reader, with the registry's
    activations), differentiating by ``variable`` of ``shape`` (a scalar when ``None``)."""
    if shape is None:
        return derive.jacobian(text, variable, scalars=(variable,)).of
    return derive.jacobian(text, variable, shapes={variable: shape}).of


@pytest.mark.parametrize("case", ACTIVATIONS, ids=cases.case_id)
def test_activation_latex_name_reads_back_as_the_same_expression(case):
    """The matrix printer's Φ(z) and SymPy's Φ(t), read back, are Φ(z) and Φ(t) again.  The
    reader knows registered entries by their LaTeX names; a name it cannot tell apart (a
    user's, unknown to it, or a parametrised entry's, whose parameter it does not read) must be
    refused, not read as another function."""
    entry = case.entry
    z = sp.MatrixSymbol("z", 3, 1)
    if entry.vector_valued:
        text = entry.latex + r"\left(z\right)"
        got = read_back(text, "z", (3, 1))
        assert latex_matrix(got) == text
        want = expand_activations(entry.apply_vector(sp.Matrix(z)))
        assert sp.simplify(sp.Matrix(got.as_explicit()) - want) == sp.zeros(3, 1)
        return
    reads = case.registered and (entry.family is None
                                 or derive.ACTIVATIONS.get(entry.family[0]) == entry)
    t = sp.Symbol("t", real=True)
    for text, variable, shape, want in [
            (latex_matrix(elementwise(entry.function, z)), "z", (3, 1),
             elementwise(entry.function, z)),
            (sp.latex(entry.apply(t)), "t", None, entry.apply(t))]:
        if reads:
            assert read_back(text, variable, shape) == want, text
        else:
            with pytest.raises(derive.BadInput):
                read_back(text, variable, shape)


@pytest.mark.parametrize("case", ELEMENTWISE, ids=cases.case_id)
def test_activation_formula_reads_back_where_the_reader_has_its_syntax(case):
    """SymPy's LaTeX of the formula reads back as the formula, unless it uses a node the
    reader has no syntax for (then it is refused, never misread)."""
    text = sp.latex(case.entry.expr)
    if case.entry.expr.has(*UNREAD_BY_READER):
        with pytest.raises(derive.BadInput):
            read_back(text, "x")
        return
    got = expand_activations(read_back(text, "x"))
    assert sp.simplify(got - case.entry.expr) == 0, (text, got)


def load(generated):
    module = types.ModuleType(generated.name)
    exec(compile(generated.source, f"<generated {generated.name}>", "exec"), module.__dict__)
    return module


def assert_generates_checked_code(net, acts, loss_spec):
    """The generated module passed its own check, and its loss is the reference's."""
    generated = generate_numpy(derive.backprop(net, form="matrix", batch=True))
    assert "central differences" in generated.check and "max rel err" in generated.check
    module = load(generated)
    rng = np.random.default_rng(5)
    params = {k: np.asarray(v, dtype=float) for k, v in module.init_params(rng).items()}
    X = rng.normal(size=(net.sizes[0], 4))
    Y = draw_targets(net.loss.targets, (net.sizes[-1], 4), rng, soft=True)
    want = reference.batch_loss(params, X, Y, acts, loss_spec, net.convention)
    assert module.loss(params, X, Y) == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("index, case", enumerate(ACTIVATIONS),
                         ids=[c.id for c in ACTIVATIONS])
def test_activation_code_generation(index, case):
    """Hidden layer Φ; the output layer is Φ too where some loss pairs with it (rotating over
    those losses), else the table's first valid output."""
    own = [p for p in cases.PAIRING_CASES
           if p.activation is case and not cases.is_flat(case.entry)]
    pairing = own[index % len(own)] if own else cases.pairing_for(LOSSES[index % len(LOSSES)].entry)
    acts = [case.entry, pairing.activation.entry]
    net = derive.mlp([2, max(3, case.entry.min_outputs), pairing.n_out],
                     activations=[case.spec, pairing.activation.spec], loss=pairing.loss.spec)
    assert_generates_checked_code(net, acts, pairing.loss.entry)


# --- losses -----------------------------------------------------------------------------------

def loss_points(case, count, seed):
    """(ŷ, y) pairs: y from the loss's target domain (soft), ŷ inside its prediction domain,
    away from its kinks."""
    rng = np.random.default_rng(seed)
    targets = draw_targets(case.entry.targets, (1, 8 * count), rng, soft=True)[0]
    low, high = case.entry.prediction_domain
    predictions = rng.uniform(-3 if low is None else low + 0.05,
                              3 if high is None else high - 0.05, size=targets.shape)
    keep = np.ones(targets.shape, dtype=bool)
    for kink in case.entry.kinks:
        at = sp.lambdify(Y_SYMBOL, kink, "numpy")(targets)
        keep &= np.abs(predictions - at) > 1e-3
    return predictions[keep][:count], targets[keep][:count]


@pytest.mark.parametrize("case", LOSSES, ids=cases.case_id)
def test_loss_derivative_is_sympy_diff_of_its_formula(case):
    entry = case.entry
    want = without_deltas(sp.diff(entry.expr, YHAT_SYMBOL))
    predictions, targets = loss_points(case, 6, 6)
    points = [{YHAT_SYMBOL: sp.Rational(p), Y_SYMBOL: sp.Rational(t)}
              for p, t in zip(predictions, targets)]
    assert_equal_functions(entry.derivative(), want, [YHAT_SYMBOL, Y_SYMBOL], points, case.id)
    # and the engine's gradient of a one-layer network is that derivative, chained
    pairing = cases.pairing_for(entry)
    net = derive.mlp([1, pairing.n_out], activations=[pairing.activation.spec], loss=case.spec)
    explicit = net.explicit()
    cost = expand_activations(explicit.composed_cost())
    d = derive.backprop(net)
    rng, draws = random.Random(7), np.random.default_rng(7)
    inputs = sorted(cost.free_symbols - set(explicit.y), key=sp.default_sort_key)
    for _ in range(3):
        point = {s: sp.Rational(rng.randint(-200, 200), 101) for s in inputs}
        targets = draw_targets(entry.targets, (pairing.n_out, 1), draws, soft=True)[:, 0]
        point.update({t: sp.Rational(v) for t, v in zip(explicit.y, targets)})
        for name, thetas in explicit.params().items():
            for theta, got in zip(thetas, d.gradient(name, explicit=True)):
                want = without_deltas(sp.diff(cost, theta))
                a = sp.N(expand_activations(got).subs(point), 50)
                b = sp.N(want.subs(point), 50)
                assert abs(a - b) <= sp.Float(10) ** -40 * max(1, abs(b)), (name, theta, a, b)


@pytest.mark.parametrize("case", LOSSES, ids=cases.case_id)
def test_loss_numpy_code_matches_reference_and_finite_differences(case):
    loss = sp.lambdify([YHAT_SYMBOL, Y_SYMBOL], case.entry.expr, "numpy")
    derivative = sp.lambdify([YHAT_SYMBOL, Y_SYMBOL], case.entry.derivative(), "numpy")
    predictions, targets = loss_points(case, 32, 8)
    assert len(predictions) >= 16
    np.testing.assert_allclose(loss(predictions, targets),
                               reference.loss(case.entry)(predictions, targets), rtol=1e-12,
                               atol=1e-15)
    got = np.broadcast_to(derivative(predictions, targets), predictions.shape)
    numeric = central_difference(lambda p: loss(p, targets), predictions)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", LOSSES, ids=cases.case_id)
def test_loss_metadata_matches_its_formula(case):
    """ℓ is finite inside the prediction domain and not at its finite bounds (for some target of
    its domain); a margin loss depends on ŷ and y only through y ŷ, and only it does."""
    entry = case.entry
    probes = TARGET_DOMAINS[entry.targets].probes
    low, high = entry.prediction_domain
    inside = [v for v in (sp.Rational(1, 3), sp.Rational(2, 3), sp.Rational(-5, 2), 4)
              if (low is None or v > low) and (high is None or v < high)]
    for prediction in inside:
        for target in probes:
            value = sp.N(entry.expr.subs({YHAT_SYMBOL: prediction, Y_SYMBOL: target}), 30)
            assert value.is_real and value.is_finite, (prediction, target)
    for bound in (b for b in (low, high) if b is not None):
        values = [sp.N(entry.expr.subs({YHAT_SYMBOL: bound, Y_SYMBOL: t}), 30) for t in probes]
        assert not all(v.is_real and v.is_finite for v in values), bound
    product = sp.Symbol("m", real=True)
    through_product = entry.expr.subs(YHAT_SYMBOL, product / Y_SYMBOL)
    assert (sp.simplify(sp.diff(through_product, Y_SYMBOL)) == 0) == entry.margin


@pytest.mark.parametrize("index, case", enumerate(LOSSES), ids=[c.id for c in LOSSES])
def test_loss_code_generation(index, case):
    """tanh hidden layer; the output layer rotates over the valid, non-flat outputs."""
    own = [p for p in cases.PAIRING_CASES
           if p.loss is case and not cases.is_flat(p.activation.entry)]
    pairing = own[index % len(own)]
    net = derive.mlp([2, 3, pairing.n_out], activations=["tanh", pairing.activation.spec],
                     loss=case.spec)
    assert_generates_checked_code(net, ["tanh", pairing.activation.entry], case.entry)
